#include "url.hpp"

namespace berth::api {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::variant<std::string, UrlError> unescape(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return UrlError{"invalid URL escape \"" + std::string{text.substr(i, 3)} + "\""};
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::variant<std::string, UrlError> path_unescape(std::string_view text) {
  return unescape(text, false);
}

Query::Query(std::string_view raw) {
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    // Go 1.17+ rejects pairs holding ';' and skips them.
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    const std::size_t equal = pair.find('=');
    auto key = unescape(pair.substr(0, equal), true);
    auto value = unescape(
        equal == std::string_view::npos ? std::string_view{} : pair.substr(equal + 1), true);
    if (!std::holds_alternative<std::string>(key) || !std::holds_alternative<std::string>(value)) {
      continue;
    }
    pairs_.emplace_back(std::move(std::get<std::string>(key)),
                        std::move(std::get<std::string>(value)));
  }
}

std::string Query::get(std::string_view key) const {
  for (const auto& [k, v] : pairs_) {
    if (k == key) return v;
  }
  return {};
}

std::string to_lower(std::string_view text) {
  std::string out{text};
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool equal_fold(std::string_view a, std::string_view b) {
  return to_lower(a) == to_lower(b);
}

}  // namespace berth::api
