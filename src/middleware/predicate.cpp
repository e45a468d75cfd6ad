#include "predicate.hpp"

#include <cctype>
#include <charconv>
#include <optional>

namespace berth::middleware {

struct Predicate::Node {
  enum class Kind { all_of, any_of, compare, call };
  enum class Op { gt, lt, ge, le, eq, ne };
  Kind kind = Kind::call;
  std::shared_ptr<const Node> left;
  std::shared_ptr<const Node> right;
  std::size_t function = 0;
  std::vector<double> args;
  Op op = Op::gt;
  double value = 0;
};

namespace {

using Node = Predicate::Node;
using NodePtr = std::shared_ptr<const Node>;

class Parser {
 public:
  Parser(std::string_view text, std::span<const PredicateFunction> functions)
      : text_(text), functions_(functions) {}

  std::variant<NodePtr, std::string> parse() {
    auto node = parse_or(0);
    if (!error_.empty()) return error_;
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected \"" + std::string(text_.substr(pos_)) + "\"");
    return node;
  }

 private:
  std::string fail(std::string message) {
    if (error_.empty()) error_ = message + " at " + std::to_string(pos_);
    return error_;
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
  }

  bool consume(std::string_view token) {
    skip_space();
    if (text_.substr(pos_).starts_with(token)) {
      pos_ += token.size();
      return true;
    }
    return false;
  }

  NodePtr parse_or(int depth) {
    auto left = parse_and(depth);
    while (error_.empty() && consume("||")) {
      auto node = std::make_shared<Node>();
      node->kind = Node::Kind::any_of;
      node->left = left;
      node->right = parse_and(depth);
      left = node;
    }
    return left;
  }

  NodePtr parse_and(int depth) {
    auto left = parse_term(depth);
    while (error_.empty() && consume("&&")) {
      auto node = std::make_shared<Node>();
      node->kind = Node::Kind::all_of;
      node->left = left;
      node->right = parse_term(depth);
      left = node;
    }
    return left;
  }

  NodePtr parse_term(int depth) {
    if (depth > 50) {
      fail("expression nested too deeply");
      return nullptr;
    }
    if (consume("(")) {
      auto inner = parse_or(depth + 1);
      if (error_.empty() && !consume(")")) fail("missing ')'");
      return inner;
    }
    auto call = parse_call();
    if (!error_.empty()) return nullptr;
    const bool boolean = functions_[call->function].boolean;
    skip_space();
    static constexpr std::pair<std::string_view, Node::Op> ops[] = {
        {">=", Node::Op::ge}, {"<=", Node::Op::le}, {"==", Node::Op::eq},
        {"!=", Node::Op::ne}, {">", Node::Op::gt},  {"<", Node::Op::lt}};
    for (const auto& [token, op] : ops) {
      if (!consume(token)) continue;
      if (boolean) {
        fail(std::string(functions_[call->function].name) + "() cannot be compared");
        return nullptr;
      }
      auto compare = std::make_shared<Node>(*call);
      compare->kind = Node::Kind::compare;
      compare->op = op;
      auto number = parse_number();
      if (!number) {
        fail("expected a number");
        return nullptr;
      }
      compare->value = *number;
      return compare;
    }
    if (!boolean) {
      fail(std::string(functions_[call->function].name) + "() must be compared with a number");
      return nullptr;
    }
    return call;
  }

  std::shared_ptr<Node> parse_call() {
    skip_space();
    const auto start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '_')) {
      ++pos_;
    }
    const auto name = text_.substr(start, pos_ - start);
    if (name.empty()) {
      fail("expected a function call");
      return nullptr;
    }
    std::size_t index = functions_.size();
    for (std::size_t i = 0; i < functions_.size(); ++i) {
      if (functions_[i].name == name) index = i;
    }
    if (index == functions_.size()) {
      pos_ = start;
      fail("unknown function \"" + std::string(name) + "\"");
      return nullptr;
    }
    auto node = std::make_shared<Node>();
    node->function = index;
    if (!consume("(")) {
      fail("expected '(' after " + std::string(name));
      return nullptr;
    }
    if (!consume(")")) {
      do {
        auto number = parse_number();
        if (!number) {
          fail("expected a number");
          return nullptr;
        }
        node->args.push_back(*number);
      } while (consume(","));
      if (!consume(")")) {
        fail("expected ')'");
        return nullptr;
      }
    }
    if (node->args.size() != functions_[index].arity) {
      fail(std::string(name) + "() takes " + std::to_string(functions_[index].arity) +
           " arguments");
      return nullptr;
    }
    return node;
  }

  std::optional<double> parse_number() {
    skip_space();
    const char* begin = text_.data() + pos_;
    double value = 0;
    const auto [end, ec] = std::from_chars(begin, text_.data() + text_.size(), value);
    if (ec != std::errc{} || end == begin) return std::nullopt;
    pos_ += static_cast<std::size_t>(end - begin);
    return value;
  }

  std::string_view text_;
  std::span<const PredicateFunction> functions_;
  std::size_t pos_ = 0;
  std::string error_;
};

bool evaluate_node(const Node& node, const PredicateEnvironment& environment) {
  switch (node.kind) {
    case Node::Kind::all_of:
      return evaluate_node(*node.left, environment) && evaluate_node(*node.right, environment);
    case Node::Kind::any_of:
      return evaluate_node(*node.left, environment) || evaluate_node(*node.right, environment);
    case Node::Kind::call:
      return environment(node.function, node.args) != 0;
    case Node::Kind::compare:
      break;
  }
  const double v = environment(node.function, node.args);
  switch (node.op) {
    case Node::Op::gt:
      return v > node.value;
    case Node::Op::lt:
      return v < node.value;
    case Node::Op::ge:
      return v >= node.value;
    case Node::Op::le:
      return v <= node.value;
    case Node::Op::eq:
      return v == node.value;
    case Node::Op::ne:
      return v != node.value;
  }
  return false;
}

}  // namespace

bool Predicate::evaluate(const PredicateEnvironment& environment) const {
  return root_ && evaluate_node(*root_, environment);
}

std::variant<Predicate, std::string> parse_predicate(std::string_view text,
                                                     std::span<const PredicateFunction> functions) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::string("empty expression");
  }
  Parser parser(text, functions);
  auto root = parser.parse();
  if (auto* error = std::get_if<std::string>(&root)) return std::move(*error);
  Predicate predicate;
  predicate.root_ = std::move(std::get<NodePtr>(root));
  return predicate;
}

}  // namespace berth::middleware
