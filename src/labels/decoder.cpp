#include "decoder.hpp"

#include <charconv>
#include <limits>

namespace berth::labels {

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

config::StringList split_csv(std::string_view text) {
  config::StringList items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    start = comma + 1;
  }
  return items;
}

std::string quote_value(std::string_view value) {
  constexpr std::size_t limit = 64;
  std::string out = "\"";
  out += value.substr(0, limit);
  if (value.size() > limit) out += "...";
  out += '"';
  return out;
}

void Decoder::decode_scalar(const LabelNode& node, bool& out) {
  const std::string* value = leaf_value(node);
  if (!value) return;
  if (std::optional<bool> parsed = parse_bool(*value)) {
    out = *parsed;
  } else {
    error(node, node.key() + "=" + quote_value(*value) + ": expected true or false");
  }
}

void Decoder::decode_scalar(const LabelNode& node, std::int64_t& out) {
  const std::string* value = leaf_value(node);
  if (!value) return;
  if (std::optional<std::int64_t> parsed = parse_int(*value)) {
    out = *parsed;
  } else {
    error(node, node.key() + "=" + quote_value(*value) + ": expected an integer");
  }
}

void Decoder::decode_scalar(const LabelNode& node, config::Duration& out) {
  const std::string* value = leaf_value(node);
  if (!value) return;
  if (std::optional<config::Duration> parsed = config::parse_duration(*value)) {
    out = *parsed;
  } else {
    error(node, node.key() + "=" + quote_value(*value) +
                    ": expected a duration such as 10s, 1m30s or a number of seconds");
  }
}

void Decoder::decode_string_list(const LabelNode& node, config::StringList& out) {
  if (node.value()) {
    if (!leaf_only(node)) return;
    out = split_csv(*node.value());
    return;
  }
  std::vector<std::string> elements;
  decode_elements(node, elements);
  out = std::move(elements);
}

void Decoder::decode_string_map(const LabelNode& node, config::StringMap& out) {
  if (node.value()) {
    error(node, node.key() + "=" + quote_value(*node.value()) + ": expected " + node.key() +
                    ".<name>=<value> entries, not a value");
    return;
  }
  for (const auto& child : node.children()) {
    std::string value;
    decode_scalar(*child, value);
    out.insert_or_assign(child->segment(), std::move(value));
  }
}

}  // namespace berth::labels
