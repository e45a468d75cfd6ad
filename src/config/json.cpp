#include "berth/config/json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

namespace berth::config {

std::string JsonError::to_string() const {
  if (path.empty()) return message;
  return path + ": " + message;
}

namespace json_detail {

bool same_name(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return lower(x) == lower(y); });
}

namespace {

template <std::size_t... I>
std::string kind_names(std::index_sequence<I...>) {
  std::string out;
  ((out += (I == 0 ? "" : ", "), out += std::variant_alternative_t<I, MiddlewareKind>::kind_name),
   ...);
  return out;
}

}  // namespace

std::string type_of(const nlohmann::json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "null";
  }
}

std::string middleware_kinds() {
  return kind_names(std::make_index_sequence<std::variant_size_v<MiddlewareKind>>{});
}

bool Decoder::decode_string(const nlohmann::json& json, std::string& out) {
  if (options_.scalars_as_text && (json.is_number() || json.is_boolean())) {
    out = json.dump();
    return true;
  }
  if (!json.is_string()) return fail("expected a string, got " + type_of(json));
  out = json.get<std::string>();
  return true;
}

bool Decoder::decode_bool(const nlohmann::json& json, bool& out) {
  if (options_.scalars_as_text && json.is_string()) {
    // The spellings Go's strconv.ParseBool accepts.
    static constexpr std::array<std::string_view, 6> yes{"1", "t", "T", "true", "TRUE", "True"};
    static constexpr std::array<std::string_view, 6> no{"0", "f", "F", "false", "FALSE", "False"};
    const auto& text = json.get_ref<const std::string&>();
    if (std::find(yes.begin(), yes.end(), text) != yes.end()) {
      out = true;
      return true;
    }
    if (std::find(no.begin(), no.end(), text) != no.end()) {
      out = false;
      return true;
    }
    return fail("expected a boolean, got \"" + text + "\"");
  }
  if (!json.is_boolean()) return fail("expected a boolean, got " + type_of(json));
  out = json.get<bool>();
  return true;
}

bool Decoder::decode_integer(const nlohmann::json& json, std::int64_t& out) {
  if (options_.scalars_as_text && json.is_string()) {
    const auto& text = json.get_ref<const std::string&>();
    const char* first = text.data();
    const char* last = first + text.size();
    if (last - first > 1 && *first == '+' && first[1] != '-') ++first;
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(first, last, value);
    if (error == std::errc::result_out_of_range) return fail("number out of range");
    if (error != std::errc{} || end != last || first == last) {
      return fail("expected an integer, got \"" + text + "\"");
    }
    out = value;
    return true;
  }
  if (json.is_number_unsigned()) {
    const auto value = json.get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return fail("number out of range");
    }
    out = static_cast<std::int64_t>(value);
    return true;
  }
  if (json.is_number_integer()) {
    out = json.get<std::int64_t>();
    return true;
  }
  if (json.is_number_float()) return fail("expected an integer, got " + json.dump());
  return fail("expected a number, got " + type_of(json));
}

bool Decoder::decode_duration(const nlohmann::json& json, Duration& out) {
  if (json.is_number_integer() || json.is_number_unsigned()) {
    std::int64_t seconds = 0;
    if (!decode_integer(json, seconds)) return false;
    constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
    if (seconds > limit || seconds < -limit) return fail("duration out of range");
    out = std::chrono::seconds{seconds};
    return true;
  }
  if (!json.is_string()) {
    return fail("expected a duration (\"10s\" or a number of seconds), got " + type_of(json));
  }
  const auto& text = json.get_ref<const std::string&>();
  const auto parsed = parse_duration(text);
  if (!parsed) return fail("invalid duration \"" + text + "\"");
  out = *parsed;
  return true;
}

bool Decoder::decode_string_list(const nlohmann::json& json, std::vector<std::string>& out) {
  out.clear();
  std::string_view text = json.get_ref<const std::string&>();
  for (;;) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

bool Decoder::expect_object(const nlohmann::json& json) {
  if (json.is_object()) return true;
  return fail("expected an object, got " + type_of(json));
}

bool Decoder::check_fields(const nlohmann::json& json, const std::vector<std::string_view>& names) {
  for (const auto& item : json.items()) {
    // Not a structured binding: clang 14 cannot capture those in the lambda below.
    const std::string& key = item.key();
    const bool known = std::any_of(names.begin(), names.end(),
                                   [&](std::string_view name) { return same_name(key, name); });
    if (known) continue;
    const std::size_t length = path_.size();
    if (!path_.empty()) path_ += '.';
    path_ += key;
    fail("unknown field");
    path_.resize(length);
    return false;
  }
  return true;
}

const nlohmann::json::object_t::value_type* Decoder::single_kind(const nlohmann::json& json,
                                                                 std::string_view what) {
  if (!expect_object(json)) return nullptr;
  const auto& object = json.get_ref<const nlohmann::json::object_t&>();
  if (object.size() != 1) {
    fail("expected exactly one " + std::string{what} + ", got " + std::to_string(object.size()));
    return nullptr;
  }
  return &*object.begin();
}

}  // namespace json_detail

std::variant<Configuration, JsonError> parse_configuration(std::string_view text) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return JsonError{{}, "invalid JSON"};
  Configuration configuration;
  if (auto error = from_json(json, configuration)) return *std::move(error);
  return configuration;
}

}  // namespace berth::config
