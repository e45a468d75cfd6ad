#include "label_tree.hpp"

#include <algorithm>
#include <charconv>

namespace berth::labels {

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

const LabelNode* LabelNode::find(std::string_view segment) const {
  auto it = index_.find(to_lower(segment));
  return it == index_.end() ? nullptr : children_[it->second].get();
}

std::optional<std::string> LabelNode::insert(const std::vector<std::string>& segments,
                                             std::size_t from, std::string value) {
  LabelNode* node = this;
  for (std::size_t i = from; i < segments.size(); ++i) {
    const std::string& segment = segments[i];
    std::string lower = to_lower(segment);
    auto it = node->index_.find(lower);
    if (it == node->index_.end()) {
      std::string key = node->key_;
      if (!key.empty() && !element_index(segment)) key += '.';
      key += segment;
      node->children_.push_back(std::make_unique<LabelNode>(segment, std::move(key)));
      it = node->index_.emplace(std::move(lower), node->children_.size() - 1).first;
    }
    node = node->children_[it->second].get();
  }
  if (node->value_) return node->key_;
  node->value_ = std::move(value);
  return std::nullopt;
}

std::optional<std::size_t> LabelNode::element_index(std::string_view segment) {
  if (segment.size() < 3 || segment.front() != '[' || segment.back() != ']') return std::nullopt;
  std::string_view digits = segment.substr(1, segment.size() - 2);
  std::size_t index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return index;
}

std::vector<std::string> split_key(std::string_view key) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = key.find('.', start);
    std::string_view part = key.substr(start, dot == std::string_view::npos ? dot : dot - start);
    // `domains[0]` is the element 0 of `domains`.
    std::size_t open = part.find('[');
    if (open != std::string_view::npos && open > 0 && LabelNode::element_index(part.substr(open))) {
      segments.emplace_back(part.substr(0, open));
      segments.emplace_back(part.substr(open));
    } else {
      segments.emplace_back(part);
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return segments;
}

}  // namespace berth::labels
