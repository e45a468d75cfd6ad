#include "regex.hpp"

#include <span>
#include <variant>

namespace berth::middleware {

std::variant<std::shared_ptr<const re2::RE2>, std::string> compile_regex(
    const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (!re->ok()) return "invalid regexp \"" + pattern + "\": " + re->error();
  return re;
}

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// One `$...` reference after the '$': the name and what follows, or nullopt when malformed.
struct Reference {
  std::string_view name;
  std::string_view rest;
};
std::optional<Reference> extract(std::string_view text) {
  bool brace = false;
  if (text.starts_with('{')) {
    brace = true;
    text.remove_prefix(1);
  }
  std::size_t i = 0;
  while (i < text.size() && name_char(text[i])) ++i;
  if (i == 0) return std::nullopt;
  Reference ref{text.substr(0, i), text.substr(i)};
  if (brace) {
    if (!ref.rest.starts_with('}')) return std::nullopt;
    ref.rest.remove_prefix(1);
  }
  return ref;
}

void expand(const re2::RE2& re, std::string_view tmpl, std::span<const re2::StringPiece> groups,
            std::string& out) {
  while (!tmpl.empty()) {
    const auto dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (tmpl.starts_with('$')) {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    const auto ref = extract(tmpl);
    if (!ref) {
      out.push_back('$');
      continue;
    }
    tmpl = ref->rest;
    int index = -1;
    if (ref->name.find_first_not_of("0123456789") == std::string_view::npos) {
      // Go treats absurdly large numbers as names (which then match nothing).
      if (ref->name.size() < 9) index = std::stoi(std::string(ref->name));
    } else {
      const auto& named = re.NamedCapturingGroups();
      if (auto it = named.find(std::string(ref->name)); it != named.end()) index = it->second;
    }
    if (index >= 0 && static_cast<std::size_t>(index) < groups.size() &&
        groups[static_cast<std::size_t>(index)].data() != nullptr) {
      const auto& g = groups[static_cast<std::size_t>(index)];
      out.append(g.data(), g.size());
    }
  }
  out.append(tmpl);
}

std::size_t utf8_width(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return 1;
  const auto c = static_cast<unsigned char>(text[pos]);
  std::size_t width = 1;
  if (c >= 0xF0) {
    width = 4;
  } else if (c >= 0xE0) {
    width = 3;
  } else if (c >= 0xC0) {
    width = 2;
  }
  return std::min(width, text.size() - pos);
}

}  // namespace

std::string replace_all(const re2::RE2& re, std::string_view input, std::string_view replacement) {
  const auto group_count = static_cast<std::size_t>(re.NumberOfCapturingGroups()) + 1;
  std::vector<re2::StringPiece> groups(group_count);
  const re2::StringPiece text(input.data(), input.size());
  std::string out;
  std::size_t search = 0;
  std::size_t last_end = 0;
  while (search <= input.size()) {
    if (!re.Match(text, search, input.size(), re2::RE2::UNANCHORED, groups.data(),
                  static_cast<int>(group_count))) {
      break;
    }
    const auto begin = static_cast<std::size_t>(groups[0].data() - input.data());
    const auto end = begin + groups[0].size();
    out.append(input.substr(last_end, begin - last_end));
    // No replacement for an empty match right after the previous match, as Go.
    if (end > last_end || begin == 0) expand(re, replacement, groups, out);
    last_end = end;
    const auto width = utf8_width(input, search);
    if (search + width > end) {
      search += width;
    } else if (search + 1 > end) {
      ++search;
    } else {
      search = end;
    }
  }
  out.append(input.substr(std::min(last_end, input.size())));
  return out;
}

std::vector<std::optional<std::string_view>> find_submatch(const re2::RE2& re,
                                                           std::string_view input) {
  const auto group_count = static_cast<std::size_t>(re.NumberOfCapturingGroups()) + 1;
  std::vector<re2::StringPiece> groups(group_count);
  std::vector<std::optional<std::string_view>> result;
  if (!re.Match(re2::StringPiece(input.data(), input.size()), 0, input.size(), re2::RE2::UNANCHORED,
                groups.data(), static_cast<int>(group_count))) {
    return result;
  }
  result.reserve(group_count);
  for (const auto& g : groups) {
    if (g.data() == nullptr) {
      result.emplace_back();
    } else {
      result.emplace_back(std::string_view(g.data(), g.size()));
    }
  }
  return result;
}

}  // namespace berth::middleware
