#pragma once
// The boolean expression syntax shared by rules and provider constraints:
// calls like Name(`arg`, "arg") combined with &&, ||, ! and parentheses (&& binds tighter than ||).
//
// This is the subset of Go expressions that Traefik's parser (vulcand/predicate over go/parser)
// accepts for rules. Names are [A-Za-z_][A-Za-z0-9_]*. Arguments are Go string literals: raw
// (`...`: no escapes, carriage returns dropped) or interpreted ("...": \a \b \f \n \r \t \v \\ \"
// \xHH \OOO \uHHHH \UHHHHHHHH). Literal text must be valid UTF-8 without NUL bytes (escapes may
// still produce any byte, as in Go). Whitespace is space, tab, CR and LF.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/rules/rule.hpp"

namespace berth::rules {

/// How deeply parentheses and `!` may nest before parsing stops with an error, so hostile input
/// cannot exhaust the stack.
inline constexpr std::size_t max_nesting_depth = 100;

struct Expression {
  enum class Kind { call, all_of, any_of, negation };
  Kind kind = Kind::call;
  std::string name;                        ///< call: the function name as written
  std::vector<std::string> args;           ///< call: the arguments, unquoted
  std::vector<std::size_t> arg_positions;  ///< call: offset of each argument's opening quote
  /// Offset of the call's name, or of the operator (`&&`, `||`, `!`) that joins the operands.
  std::size_t position = 0;
  /// all_of / any_of: two; negation: one. A chain `a && b && c` becomes a balanced tree, so that a
  /// long chain does not make a deep tree.
  std::vector<Expression> operands;
};

/// Parses the syntax only (any call name, any argument count); nothing throws.
std::variant<Expression, RuleError> parse_expression(std::string_view text);

}  // namespace berth::rules
