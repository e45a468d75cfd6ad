#pragma once
// The small predicate language of oxy/vulcand that Traefik's circuitBreaker `expression` and
// buffering `retryExpression` use:
//   NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 100 && ResponseCodeRatio(500, 600, 0,
//   600) > 0.25 IsNetworkError() && Attempts() < 2
// Calls take numeric arguments; a numeric call must be compared (> < >= <= == !=) with a number; a
// boolean call stands alone. && binds tighter than ||; parentheses group.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace berth::middleware {

/// A function the language knows, with its argument count and whether it yields a boolean.
struct PredicateFunction {
  std::string_view name;
  std::size_t arity = 0;
  bool boolean = false;
};

/// Evaluates a call: function index into the table given at parse time, and its arguments.
using PredicateEnvironment = std::function<double(std::size_t, std::span<const double>)>;

class Predicate {
 public:
  bool evaluate(const PredicateEnvironment& environment) const;

  struct Node;

 private:
  friend std::variant<Predicate, std::string> parse_predicate(
      std::string_view text, std::span<const PredicateFunction> functions);
  std::shared_ptr<const Node> root_;
};

/// Parses `text` with the given functions; the error says what and where.
std::variant<Predicate, std::string> parse_predicate(std::string_view text,
                                                     std::span<const PredicateFunction> functions);

}  // namespace berth::middleware
