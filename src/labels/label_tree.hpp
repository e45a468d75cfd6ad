#pragma once
// Dotted label keys as a tree: `traefik.http.routers.web.tls.domains[0].main=x` becomes nested
// nodes http > routers > web > tls > domains > [0] > main with the value on the leaf. Lookups are
// case-insensitive (Traefik's keys are), while each node keeps the spelling it was first written
// with, because resource names and header names keep their case.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::labels {

/// ASCII lower-casing; label keys are ASCII, anything else is kept byte for byte.
std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);

class LabelNode {
 public:
  LabelNode() = default;
  LabelNode(std::string segment, std::string key)
      : segment_(std::move(segment)), key_(std::move(key)) {}

  const std::string& segment() const { return segment_; }
  /// The label key up to and including this node, as written: for messages.
  const std::string& key() const { return key_; }
  const std::optional<std::string>& value() const { return value_; }
  const std::vector<std::unique_ptr<LabelNode>>& children() const { return children_; }
  bool empty() const { return !value_ && children_.empty(); }

  /// Case-insensitive child lookup; nullptr when absent.
  const LabelNode* find(std::string_view segment) const;

  /// Adds `value` under the path `segments`; returns the key that already held a value there (keys
  /// that differ only in case name the same node), or nullopt.
  std::optional<std::string> insert(const std::vector<std::string>& segments, std::size_t from,
                                    std::string value);

  /// The index of an array element segment `[n]`, or nullopt when the segment is no such element.
  static std::optional<std::size_t> element_index(std::string_view segment);

 private:
  std::string segment_;
  std::string key_;
  std::optional<std::string> value_;
  std::vector<std::unique_ptr<LabelNode>> children_;
  std::map<std::string, std::size_t, std::less<>> index_;  // lower-cased segment -> position
};

/// Splits a label key on '.', turning `name[3]` into `name`, `[3]`. Empty segments are kept so that
/// the caller can reject them.
std::vector<std::string> split_key(std::string_view key);

}  // namespace berth::labels
