#pragma once
// Finds the routes whose required path prefixes (Rule::required_path_prefixes) a request's path
// starts with, by walking a trie of the prefixes along the routing path: with thousands of
// PathPrefix routers a request looks at the few that can match instead of all of them.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::rules {

class PathPrefixIndex {
 public:
  /// `entries`: a prefix as written in a rule, and the value (a route's position) it leads to.
  explicit PathPrefixIndex(const std::vector<std::pair<std::string, std::uint32_t>>& entries);
  PathPrefixIndex() = default;

  /// The values of every prefix the routing path of `raw_path` starts with: sorted, unique.
  /// Never allocates.
  std::span<const std::uint32_t> candidates(std::string_view raw_path) const noexcept;

  bool empty() const noexcept { return nodes_.size() <= 1; }

 private:
  struct Node {
    std::vector<std::pair<char, std::uint32_t>> children;  ///< sorted by character
    /// For a node where some prefix ends: its values and those of every shorter prefix on the way.
    std::vector<std::uint32_t> values;
    bool prefix_ends = false;
  };
  std::uint32_t child(std::uint32_t node, char c) const noexcept;

  std::vector<Node> nodes_{1};
};

}  // namespace berth::rules
