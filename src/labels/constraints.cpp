#include "constraints.hpp"

#include <re2/re2.h>

#include <optional>

#include "berth/rules/expression.hpp"

namespace berth::labels {

namespace {

std::string at(std::size_t position) {
  return " at offset " + std::to_string(position);
}

}  // namespace

std::variant<Constraints, std::string> Constraints::parse(std::string_view text) {
  Constraints constraints;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return constraints;

  auto parsed = rules::parse_expression(text);
  if (const auto* error = std::get_if<rules::RuleError>(&parsed)) return error->to_string();

  std::string problem;
  auto convert = [&problem](auto& self, const rules::Expression& expression) -> Node {
    Node node;
    switch (expression.kind) {
      case rules::Expression::Kind::all_of:
      case rules::Expression::Kind::any_of:
      case rules::Expression::Kind::negation:
        node.kind =
            expression.kind == rules::Expression::Kind::all_of
                ? Node::Kind::all_of
                : (expression.kind == rules::Expression::Kind::any_of ? Node::Kind::any_of
                                                                      : Node::Kind::negation);
        for (const auto& operand : expression.operands)
          node.operands.push_back(self(self, operand));
        return node;
      case rules::Expression::Kind::call:
        break;
    }
    if (expression.name != "Label" && expression.name != "LabelRegex") {
      if (problem.empty()) {
        problem = "unknown constraint " + expression.name + at(expression.position) +
                  " (use Label or LabelRegex)";
      }
      return node;
    }
    if (expression.args.size() != 2) {
      if (problem.empty()) {
        problem = expression.name + " takes 2 arguments, got " +
                  std::to_string(expression.args.size()) + at(expression.position);
      }
      return node;
    }
    node.key = expression.args[0];
    node.value = expression.args[1];
    if (expression.name == "Label") {
      node.kind = Node::Kind::label;
      return node;
    }
    node.kind = Node::Kind::label_regex;
    RE2::Options options;
    options.set_log_errors(false);
    auto regex = std::make_shared<const RE2>(node.value, options);
    if (!regex->ok() && problem.empty()) {
      problem = "invalid regular expression \"" + node.value + "\"" + at(expression.position) +
                ": " + regex->error();
    }
    node.regex = std::move(regex);
    return node;
  };
  Node root = convert(convert, std::get<rules::Expression>(parsed));
  if (!problem.empty()) return problem;
  constraints.root_ = std::make_shared<const Node>(std::move(root));
  return constraints;
}

bool Constraints::matches(const std::map<std::string, std::string>& labels) const {
  return !root_ || evaluate(*root_, labels);
}

bool Constraints::evaluate(const Node& node, const std::map<std::string, std::string>& labels) {
  switch (node.kind) {
    case Node::Kind::label: {
      auto it = labels.find(node.key);
      return it != labels.end() && it->second == node.value;
    }
    case Node::Kind::label_regex: {
      // Go's regexp.MatchString, which Traefik uses, is unanchored.
      auto it = labels.find(node.key);
      return it != labels.end() && RE2::PartialMatch(it->second, *node.regex);
    }
    case Node::Kind::all_of:
      for (const Node& operand : node.operands) {
        if (!evaluate(operand, labels)) return false;
      }
      return true;
    case Node::Kind::any_of:
      for (const Node& operand : node.operands) {
        if (evaluate(operand, labels)) return true;
      }
      return false;
    case Node::Kind::negation:
      return node.operands.empty() || !evaluate(node.operands.front(), labels);
  }
  return false;
}

}  // namespace berth::labels
