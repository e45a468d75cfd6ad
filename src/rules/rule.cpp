#include "berth/rules/rule.hpp"

#include <utility>

#include "berth/rules/expression.hpp"
#include "matcher.hpp"
#include "text.hpp"

namespace berth::rules {

std::string RuleError::to_string() const {
  if (message == empty_rule_message) return message;
  return message + " at " + std::to_string(position);
}

bool Rule::matches(const RequestView& request) const noexcept {
  return matcher_ != nullptr && matcher_->matches(request);
}

std::variant<Rule, RuleError> compile(std::string_view text) {
  auto parsed = parse_expression(text);
  if (auto* error = std::get_if<RuleError>(&parsed)) return std::move(*error);
  const Expression& expression = std::get<Expression>(parsed);

  auto built = Matcher::build(expression);
  if (auto* error = std::get_if<RuleError>(&built)) return std::move(*error);

  Rule rule;
  rule.text_ = std::string(text);
  rule.matcher_ = std::get<std::shared_ptr<const Matcher>>(std::move(built));
  rule.required_hosts_ = required_hosts(expression);
  rule.required_path_prefixes_ = required_path_prefixes(expression);
  return rule;
}

}  // namespace berth::rules
