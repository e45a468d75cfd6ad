#pragma once
// The compiled form of a rule: a flat, pre-order array of nodes (each knows where its subtree ends)
// over a table of leaf matchers. Evaluation walks it without allocating.

#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "berth/rules/expression.hpp"
#include "berth/rules/rule.hpp"

namespace berth::rules {

enum class MatcherKind : std::uint8_t {
  host,
  host_any,
  host_regexp,
  path,
  path_prefix,
  path_regexp,
  method,
  header,
  header_regexp,
  query,
  query_regexp,
  client_ip,
};

struct Leaf {
  MatcherKind kind = MatcherKind::host;
  /// host: lower-cased, one trailing dot removed; path(_prefix): the path; method: upper-cased;
  /// header / query: the field name or key.
  std::string text;
  std::string value;  ///< header / query: the expected value ("" for one-argument Query)
  std::unique_ptr<const RE2> regexp;
  IpAddress network;         ///< client_ip (an IPv4 network is stored mapped, prefix + 96)
  unsigned prefix_bits = 0;  ///< client_ip
  bool v6_network = false;   ///< client_ip: a CIDR written in IPv6 form
};

class Matcher {
 public:
  /// Compiles a parsed rule; the error names the offending call or argument.
  static std::variant<std::shared_ptr<const Matcher>, RuleError> build(const Expression& rule);

  bool matches(const RequestView& request) const noexcept;

 private:
  enum class Op : std::uint8_t { leaf, all_of, any_of };
  struct Node {
    Op op = Op::leaf;
    bool negated = false;
    std::size_t end = 0;   ///< index one past this node's subtree
    std::size_t leaf = 0;  ///< Op::leaf: index into leaves_
  };

  std::optional<RuleError> add(const Expression& expression, bool negated);
  std::optional<RuleError> add_operands(const Expression& expression, Expression::Kind kind);
  std::optional<RuleError> add_leaf(const Expression& call, bool negated);
  bool evaluate(std::size_t index, const RequestView& request) const noexcept;
  static bool leaf_matches(const Leaf& leaf, const RequestView& request) noexcept;

  std::vector<Node> nodes_;
  std::vector<Leaf> leaves_;
};

/// The lower-cased hosts every match of the rule needs (see Rule::required_hosts).
std::vector<std::string> required_hosts(const Expression& rule);

/// The path prefixes one of which every match of the rule needs (see Rule::required_path_prefixes).
std::vector<std::string> required_path_prefixes(const Expression& rule);

}  // namespace berth::rules
