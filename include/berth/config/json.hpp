#pragma once
// JSON for the dynamic configuration, in Traefik's shape (the file provider's `http:` tree and the
// API's objects), written once over the `visit_fields` lists of dynamic.hpp.
//
// Encoding follows Go's `omitempty`: empty strings, false, 0, empty lists/maps and absent optionals
// are left out; a present optional is written even when it holds false or 0. Durations are Go
// duration strings. A Service is {"loadBalancer":{...}} or {"weighted":{...}}; a Middleware is
// {"<kind_name>":{...}}.
//
// Decoding never throws: it returns the first error, naming its JSON path
// ("http.services.app.loadBalancer.servers[0].weight: expected a number"). Field names match
// case-insensitively, as Go's encoding/json does; unknown fields are errors. Durations are accepted
// as Go duration strings or as integers meaning seconds (as Traefik's file provider reads them).
// With DecodeOptions::scalars_as_text, scalars convert as Traefik's file provider converts them
// (it reads every value as text): strings are accepted where booleans and integers are expected,
// numbers and booleans where strings are, and a comma-separated string where a list of strings
// is; YAML's untyped scalars need this.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/config/dynamic.hpp"

namespace berth::config {

struct JsonError {
  std::string path;  ///< e.g. "http.routers.app.priority"; empty for the document itself
  std::string message;
  /// "path: message", or the message alone when the path is empty.
  std::string to_string() const;
  friend bool operator==(const JsonError&, const JsonError&) = default;
};

struct DecodeOptions {
  /// "true"/"8080" decode into bool/integer fields, 8080/true into string fields, and "a,b" into
  /// a list of strings.
  bool scalars_as_text = false;
};

namespace json_detail {

/// Collects the JSON names of a struct's fields.
struct NameCollector {
  std::vector<std::string_view> names;
  template <class M>
  void field(std::string_view name, const M&) {
    names.push_back(name);
  }
};

template <class T>
concept Fields = std::is_class_v<T> && requires(NameCollector& v, const T& t) {
  visit_fields(v, t);
};

/// What to_json/from_json accept: every value of dynamic.hpp.
template <class T>
concept Value = Fields<T> || std::same_as<T, Service> || std::same_as<T, Middleware>;

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

// --------------------------------------------------------------------------------------------
// Encoding

template <class T>
nlohmann::json encode(const T& value);

/// Go's omitempty: which values are left out of an object.
template <class T>
bool is_empty(const T& value) {
  if constexpr (std::is_same_v<T, std::string> || IsVector<T>::value || IsStringMap<T>::value) {
    return value.empty();
  } else if constexpr (std::is_same_v<T, bool>) {
    return !value;
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return value == 0;
  } else if constexpr (std::is_same_v<T, Duration>) {
    return value.count() == 0;
  } else if constexpr (IsOptional<T>::value) {
    return !value.has_value();
  } else {
    return false;  // structs are never omitted, as in Go
  }
}

struct ToJsonVisitor {
  nlohmann::json& out;
  template <class M>
  void field(std::string_view name, const M& member) {
    if (!is_empty(member)) out[std::string{name}] = encode(member);
  }
};

template <class T>
nlohmann::json encode(const T& value) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                std::is_same_v<T, std::int64_t>) {
    return value;
  } else if constexpr (std::is_same_v<T, Duration>) {
    return format_duration(value);
  } else if constexpr (IsOptional<T>::value) {
    return encode(*value);
  } else if constexpr (IsVector<T>::value) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(encode(item));
    return out;
  } else if constexpr (IsStringMap<T>::value) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value) out[key] = encode(item);
    return out;
  } else if constexpr (std::is_same_v<T, Service>) {
    return std::visit(
        [](const auto& kind) {
          using Kind = std::decay_t<decltype(kind)>;
          static_assert(std::is_same_v<Kind, LoadBalancer> || std::is_same_v<Kind, Weighted>,
                        "a new service kind needs its JSON key here and in Decoder::decode");
          constexpr const char* key =
              std::is_same_v<Kind, LoadBalancer> ? "loadBalancer" : "weighted";
          return nlohmann::json{{key, encode(kind)}};
        },
        value.kind);
  } else if constexpr (std::is_same_v<T, Middleware>) {
    return std::visit(
        [](const auto& kind) {
          using Kind = std::decay_t<decltype(kind)>;
          return nlohmann::json{{std::string{Kind::kind_name}, encode(kind)}};
        },
        value.kind);
  } else {
    static_assert(Fields<T>, "no JSON encoding for this type");
    nlohmann::json out = nlohmann::json::object();
    ToJsonVisitor visitor{out};
    visit_fields(visitor, value);
    return out;
  }
}

// --------------------------------------------------------------------------------------------
// Decoding

/// The JSON path being decoded, and the first error met.
class Decoder {
 public:
  explicit Decoder(std::string path, DecodeOptions options = {})
      : path_(std::move(path)), options_(options) {}

  bool fail(std::string message) {
    if (!error_) error_ = JsonError{path_, std::move(message)};
    return false;
  }
  const std::optional<JsonError>& error() const { return error_; }

  /// Decodes `json` into `out` under the child path `.name` (or `[index]`).
  template <class T>
  bool child(std::string_view name, const nlohmann::json& json, T& out) {
    const std::size_t length = path_.size();
    if (!path_.empty()) path_ += '.';
    path_ += name;
    const bool ok = decode(json, out);
    path_.resize(length);
    return ok;
  }
  template <class T>
  bool element(std::size_t index, const nlohmann::json& json, T& out) {
    const std::size_t length = path_.size();
    path_ += '[' + std::to_string(index) + ']';
    const bool ok = decode(json, out);
    path_.resize(length);
    return ok;
  }

  template <class T>
  bool decode(const nlohmann::json& json, T& out);

 private:
  bool decode_string(const nlohmann::json& json, std::string& out);
  bool decode_bool(const nlohmann::json& json, bool& out);
  bool decode_integer(const nlohmann::json& json, std::int64_t& out);
  bool decode_duration(const nlohmann::json& json, Duration& out);
  /// "a, b" as ["a", "b"]: a list of strings written as one comma-separated string.
  bool decode_string_list(const nlohmann::json& json, std::vector<std::string>& out);
  bool expect_object(const nlohmann::json& json);
  /// Checks that every key of `json` is one of `names` (case-insensitively).
  bool check_fields(const nlohmann::json& json, const std::vector<std::string_view>& names);
  /// The one key of a {"<kind>":{...}} object, or nullptr after reporting why there is none.
  const nlohmann::json::object_t::value_type* single_kind(const nlohmann::json& json,
                                                          std::string_view what);

  template <class Kind>
  bool decode_service_kind(const nlohmann::json& json, std::string_view key, Service& out);
  template <std::size_t I = 0>
  bool decode_middleware(const nlohmann::json& json, std::string_view key, MiddlewareKind& out);

  std::string path_;
  DecodeOptions options_;
  std::optional<JsonError> error_;
};

/// Case-insensitive ASCII comparison, as encoding/json matches field names.
bool same_name(std::string_view a, std::string_view b);
/// "a string", "an array", ...: what was found, for error messages.
std::string type_of(const nlohmann::json& json);
/// The comma-separated list of the valid middleware kinds, for error messages.
std::string middleware_kinds();

struct FromJsonVisitor {
  Decoder& decoder;
  const nlohmann::json& object;
  bool ok = true;
  template <class M>
  void field(std::string_view name, M& member) {
    if (!ok) return;
    for (const auto& [key, value] : object.items()) {
      if (!same_name(key, name) || value.is_null()) continue;
      ok = decoder.child(key, value, member);
      return;
    }
  }
};

template <class T>
bool Decoder::decode(const nlohmann::json& json, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    return decode_string(json, out);
  } else if constexpr (std::is_same_v<T, bool>) {
    return decode_bool(json, out);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return decode_integer(json, out);
  } else if constexpr (std::is_same_v<T, Duration>) {
    return decode_duration(json, out);
  } else if constexpr (IsOptional<T>::value) {
    typename T::value_type value{};
    if (!decode(json, value)) return false;
    out = std::move(value);
    return true;
  } else if constexpr (IsVector<T>::value) {
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (options_.scalars_as_text && json.is_string()) return decode_string_list(json, out);
    }
    if (!json.is_array()) return fail("expected an array, got " + type_of(json));
    out.clear();
    for (std::size_t i = 0; i < json.size(); ++i) {
      typename T::value_type item{};
      if (!element(i, json[i], item)) return false;
      out.push_back(std::move(item));
    }
    return true;
  } else if constexpr (IsStringMap<T>::value) {
    if (!expect_object(json)) return false;
    out.clear();
    for (const auto& [key, value] : json.items()) {
      typename T::mapped_type item{};
      if (!child(key, value, item)) return false;
      out.insert_or_assign(key, std::move(item));
    }
    return true;
  } else if constexpr (std::is_same_v<T, Service>) {
    const auto* kind = single_kind(json, "service type (loadBalancer, weighted)");
    if (kind == nullptr) return false;
    if (same_name(kind->first, "loadBalancer")) {
      return decode_service_kind<LoadBalancer>(kind->second, kind->first, out);
    }
    if (same_name(kind->first, "weighted")) {
      return decode_service_kind<Weighted>(kind->second, kind->first, out);
    }
    return fail("unsupported service type \"" + kind->first +
                "\" (expected loadBalancer or weighted)");
  } else if constexpr (std::is_same_v<T, Middleware>) {
    const auto* kind = single_kind(json, "middleware type");
    if (kind == nullptr) return false;
    return decode_middleware(kind->second, kind->first, out.kind);
  } else {
    static_assert(Fields<T>, "no JSON decoding for this type");
    if (!expect_object(json)) return false;
    NameCollector names;
    visit_fields(names, std::as_const(out));
    if (!check_fields(json, names.names)) return false;
    FromJsonVisitor visitor{*this, json};
    visit_fields(visitor, out);
    return visitor.ok;
  }
}

template <class Kind>
bool Decoder::decode_service_kind(const nlohmann::json& json, std::string_view key, Service& out) {
  Kind kind{};
  if (!child(key, json, kind)) return false;
  out.kind = std::move(kind);
  return true;
}

template <std::size_t I>
bool Decoder::decode_middleware(const nlohmann::json& json, std::string_view key,
                                MiddlewareKind& out) {
  if constexpr (I == std::variant_size_v<MiddlewareKind>) {
    return fail("unknown middleware type \"" + std::string{key} + "\" (expected one of " +
                middleware_kinds() + ")");
  } else {
    using Kind = std::variant_alternative_t<I, MiddlewareKind>;
    if (!same_name(key, Kind::kind_name)) return decode_middleware<I + 1>(json, key, out);
    Kind kind{};
    if (!child(key, json, kind)) return false;
    out = std::move(kind);
    return true;
  }
}

}  // namespace json_detail

/// Any value of dynamic.hpp (Router, Service, Middleware, Server, HttpConfiguration, ...) as JSON.
/// HttpConfiguration gives {"routers":{...},"services":{...},"middlewares":{...}} (the shape of
/// /api/rawdata), Configuration gives {"http":{...}} (the shape of the file provider).
template <json_detail::Value T>
nlohmann::json to_json(const T& value) {
  return json_detail::encode(value);
}

/// Decodes `json` into `out`; nullopt on success. On error `out` is left partly decoded. `path`
/// prefixes the paths in errors, e.g. "http.services.app".
template <json_detail::Value T>
std::optional<JsonError> from_json(const nlohmann::json& json, T& out, std::string path = {},
                                   DecodeOptions options = {}) {
  json_detail::Decoder decoder{std::move(path), options};
  if (decoder.decode(json, out)) return std::nullopt;
  return decoder.error();
}

/// Parses a JSON document holding a dynamic configuration ({"http":{...}}).
std::variant<Configuration, JsonError> parse_configuration(std::string_view text);

// nlohmann's conversion hook, so that `nlohmann::json j = router;` works too.
template <json_detail::Value T>
void to_json(nlohmann::json& out, const T& value) {
  out = json_detail::encode(value);
}

}  // namespace berth::config
