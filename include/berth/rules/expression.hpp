#pragma once
// The boolean expression syntax shared by rules and provider constraints:
// calls like Name(`arg`, "arg") combined with &&, ||, ! and parentheses (&& binds tighter than ||).

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "berth/rules/rule.hpp"

namespace berth::rules {

struct Expression {
  enum class Kind { call, all_of, any_of, negation };
  Kind kind = Kind::call;
  std::string name;                  ///< call: the function name as written
  std::vector<std::string> args;     ///< call: the arguments, unquoted
  std::size_t position = 0;          ///< offset of the call or operator in the text
  std::vector<Expression> operands;  ///< all_of / any_of: two; negation: one
};

/// Parses the syntax only (any call name, any argument count); nothing throws.
std::variant<Expression, RuleError> parse_expression(std::string_view text);

}  // namespace berth::rules
