#pragma once
// Label tree -> configuration structs, written once over the `visit_fields` lists of
// config/dynamic.hpp: a field's label key is its JSON name, compared case-insensitively.
//
// Value forms: strings as written; booleans as Go's strconv.ParseBool; integers in decimal;
// durations as config::parse_duration; string lists as CSV (or `[n]` elements); maps as `.<key>`
// children (the key keeps its case); lists of structs as `[n]` elements; an optional struct is
// created by any of its sub-keys or by `=true`, and `=false` removes it whatever its sub-keys say
// (Traefik's `sticky=false`).

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "berth/config/duration.hpp"
#include "berth/config/dynamic.hpp"
#include "label_tree.hpp"

namespace berth::labels {

/// Go's strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view text);
/// A decimal integer with an optional sign; nullopt on anything else or overflow.
std::optional<std::int64_t> parse_int(std::string_view text);
/// Comma-separated values, each trimmed of spaces; empty items are dropped.
config::StringList split_csv(std::string_view text);
/// The value quoted for a message, shortened when huge.
std::string quote_value(std::string_view value);

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

template <class T>
inline constexpr bool is_vector_v = false;
template <class T>
inline constexpr bool is_vector_v<std::vector<T>> = true;

template <class T>
concept LabelScalar = std::same_as<T, std::string> || std::same_as<T, bool> ||
    std::same_as<T, std::int64_t> || std::same_as<T, config::Duration>;

class Decoder {
 public:
  /// Problems found so far, each naming the label key and its value.
  const std::vector<std::string>& errors() const { return errors_; }

  template <class T>
  void decode(const LabelNode& node, T& out) {
    if constexpr (LabelScalar<T>) {
      decode_scalar(node, out);
    } else if constexpr (is_optional_v<T>) {
      decode_optional(node, out);
    } else if constexpr (std::same_as<T, config::StringList>) {
      decode_string_list(node, out);
    } else if constexpr (std::same_as<T, config::StringMap>) {
      decode_string_map(node, out);
    } else if constexpr (is_vector_v<T>) {
      decode_elements(node, out);
    } else {
      decode_struct(node, out);
    }
  }

  /// Decodes the children of `node` into the fields of `out`, ignoring any value on `node` itself.
  template <class T>
  void decode_children(const LabelNode& node, T& out) {
    for (const auto& child : node.children()) {
      FieldMatcher matcher{*child, *this};
      visit_fields(matcher, out);
      if (!matcher.matched) error(*child, "unknown label key " + child->key());
    }
  }

  void error(const LabelNode&, std::string message) { errors_.push_back(std::move(message)); }

 private:
  struct FieldMatcher {
    const LabelNode& child;
    Decoder& decoder;
    bool matched = false;

    template <class F>
    void field(std::string_view name, F& member) {
      // A server list is never written as labels: servers come from the containers themselves.
      if constexpr (std::same_as<F, std::vector<config::Server>>) {
        return;
      } else {
        if (matched || !iequals(name, child.segment())) return;
        matched = true;
        decoder.decode(child, member);
      }
    }
  };

  bool leaf_only(const LabelNode& node) {
    if (node.children().empty()) return true;
    error(node, "unknown label key " + node.children().front()->key() + " (" + node.key() +
                    " takes a value, not sub-keys)");
    return false;
  }

  const std::string* leaf_value(const LabelNode& node) {
    if (!leaf_only(node)) return nullptr;
    if (!node.value()) {
      error(node, node.key() + " needs a value");
      return nullptr;
    }
    return &*node.value();
  }

  void decode_scalar(const LabelNode& node, std::string& out) {
    if (const std::string* value = leaf_value(node)) out = *value;
  }
  void decode_scalar(const LabelNode& node, bool& out);
  void decode_scalar(const LabelNode& node, std::int64_t& out);
  void decode_scalar(const LabelNode& node, config::Duration& out);

  template <class U>
  void decode_optional(const LabelNode& node, std::optional<U>& out) {
    if constexpr (LabelScalar<U> || is_vector_v<U> || std::same_as<U, config::StringMap>) {
      std::size_t before = errors_.size();
      U value{};
      decode(node, value);
      if (errors_.size() == before) out = std::move(value);
    } else {
      if (node.value()) {
        std::optional<bool> enabled = parse_bool(*node.value());
        if (!enabled) {
          error(node, node.key() + "=" + quote_value(*node.value()) +
                          ": expected true or false (or sub-keys)");
          return;
        }
        if (!*enabled) {
          out.reset();
          return;
        }
      }
      if (!out) out.emplace();
      decode_children(node, *out);
    }
  }

  template <class T>
  void decode_struct(const LabelNode& node, T& out) {
    if (node.value()) {
      std::optional<bool> enabled = parse_bool(*node.value());
      if (!enabled || !*enabled) {
        error(node, node.key() + "=" + quote_value(*node.value()) + ": expected sub-keys");
        return;
      }
    }
    decode_children(node, out);
  }

  void decode_string_list(const LabelNode& node, config::StringList& out);
  void decode_string_map(const LabelNode& node, config::StringMap& out);

  template <class T>
  void decode_elements(const LabelNode& node, std::vector<T>& out) {
    if (node.value()) {
      error(node, node.key() + "=" + quote_value(*node.value()) + ": expected " + node.key() +
                      "[0].<key> elements, not a value");
      return;
    }
    std::vector<std::pair<std::size_t, const LabelNode*>> elements;
    for (const auto& child : node.children()) {
      std::optional<std::size_t> index = LabelNode::element_index(child->segment());
      if (!index) {
        error(*child, "unknown label key " + child->key() + " (expected " + node.key() + "[n])");
        continue;
      }
      elements.emplace_back(*index, child.get());
    }
    std::sort(elements.begin(), elements.end());
    out.clear();
    for (const auto& [index, element] : elements) decode(*element, out.emplace_back());
  }

  std::vector<std::string> errors_;
};

}  // namespace berth::labels
