#include "berth/rules/path_index.hpp"

#include <algorithm>
#include <iterator>

#include "routing_path.hpp"

namespace berth::rules {

namespace {
constexpr std::uint32_t no_node = 0;  // the root is never anyone's child
}

PathPrefixIndex::PathPrefixIndex(
    const std::vector<std::pair<std::string, std::uint32_t>>& entries) {
  for (const auto& [prefix, value] : entries) {
    std::uint32_t node = 0;
    for (const char c : prefix) {
      std::uint32_t next = child(node, c);
      if (next == no_node) {
        next = static_cast<std::uint32_t>(nodes_.size());
        auto& children = nodes_[node].children;
        children.insert(
            std::upper_bound(children.begin(), children.end(), std::pair{c, next},
                             [](const auto& a, const auto& b) { return a.first < b.first; }),
            {c, next});
        nodes_.emplace_back();
      }
      node = next;
    }
    nodes_[node].prefix_ends = true;
    nodes_[node].values.push_back(value);
  }
  // Parents come before children in nodes_, so one pass in order inherits along every path.
  std::vector<const std::vector<std::uint32_t>*> inherited(nodes_.size(), nullptr);
  for (std::uint32_t node = 0; node < nodes_.size(); ++node) {
    Node& current = nodes_[node];
    if (current.prefix_ends) {
      std::sort(current.values.begin(), current.values.end());
      if (const auto* above = inherited[node]) {
        std::vector<std::uint32_t> merged;
        std::set_union(current.values.begin(), current.values.end(), above->begin(), above->end(),
                       std::back_inserter(merged));
        current.values = std::move(merged);
      }
      current.values.erase(std::unique(current.values.begin(), current.values.end()),
                           current.values.end());
    }
    const auto* passed_down = current.prefix_ends ? &current.values : inherited[node];
    for (const auto& [c, next] : current.children) inherited[next] = passed_down;
  }
}

std::uint32_t PathPrefixIndex::child(std::uint32_t node, char c) const noexcept {
  const auto& children = nodes_[node].children;
  auto it = std::lower_bound(children.begin(), children.end(), c,
                             [](const auto& entry, char key) { return entry.first < key; });
  return it != children.end() && it->first == c ? it->second : no_node;
}

std::span<const std::uint32_t> PathPrefixIndex::candidates(
    std::string_view raw_path) const noexcept {
  std::uint32_t node = 0;
  const Node* deepest = nodes_[node].prefix_ends ? &nodes_[node] : nullptr;
  RoutingPathReader reader(raw_path);
  char c = 0;
  while (reader.next(c)) {
    node = child(node, c);
    if (node == no_node) break;
    if (nodes_[node].prefix_ends) deepest = &nodes_[node];
  }
  if (deepest == nullptr) return {};
  return deepest->values;
}

}  // namespace berth::rules
