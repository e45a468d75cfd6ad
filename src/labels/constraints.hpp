#pragma once
// providers.docker.constraints: `Label("k","v")`, `LabelRegex("k","re")` with &&, ||, ! and
// parentheses, evaluated over a container's labels. Parsed and checked once per configuration
// build.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace berth::labels {

class Constraints {
 public:
  /// An empty expression accepts every container. Errors name the position and the problem.
  static std::variant<Constraints, std::string> parse(std::string_view text);

  bool matches(const std::map<std::string, std::string>& labels) const;

 private:
  struct Node {
    enum class Kind { label, label_regex, all_of, any_of, negation };
    Kind kind = Kind::label;
    std::string key;
    std::string value;
    std::shared_ptr<const re2::RE2> regex;
    std::vector<Node> operands;
  };

  static bool evaluate(const Node& node, const std::map<std::string, std::string>& labels);

  std::shared_ptr<const Node> root_;  // null: no constraint
};

}  // namespace berth::labels
