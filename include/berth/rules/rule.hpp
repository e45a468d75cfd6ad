#pragma once
// Traefik v3 rules: `Host(`a.example`) && (PathPrefix(`/api`) || !Method(`GET`))`.
// A rule is parsed and compiled once; matching a request view then neither allocates nor throws.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace berth::rules {

/// An IPv4 or IPv6 address, IPv4 stored as an IPv4-mapped IPv6 address.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool is_v4 = false;
  /// Parses "10.0.0.1", "::1", "[::1]", "fe80::1%eth0"; nullopt when it is no address.
  static std::optional<IpAddress> parse(std::string_view text);
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

/// What a rule looks at; the proxy fills it from the parsed request without copying.
struct RequestView {
  std::string_view method;
  std::string_view host;   ///< Host header (or the authority of an absolute-form target), port allowed
  std::string_view path;   ///< raw path, without the query
  std::string_view query;  ///< raw query, without '?'
  std::span<const HeaderField> headers;
  std::optional<IpAddress> client_ip;  ///< the connection's peer address
};

/// A parse or validation error, with the 0-based byte offset in the rule text where it was found.
struct RuleError {
  std::size_t position = 0;
  std::string message;
  /// "unexpected ')' at 23"
  std::string to_string() const;
};

class Matcher;

/// A compiled rule: immutable, cheap to copy (shared), safe to use from many threads at once.
class Rule {
 public:
  /// True when the request satisfies the rule. Never allocates.
  bool matches(const RequestView& request) const noexcept;

  /// The rule text it was compiled from.
  const std::string& text() const noexcept { return text_; }

  /// Lower-cased hosts one of which the request's host must equal for the rule to match (from Host()
  /// matchers that every match needs); empty when the rule can match without a fixed host, so an index
  /// by host can put it in its fallback list.
  const std::vector<std::string>& required_hosts() const noexcept { return required_hosts_; }

  /// Traefik's default priority: the length of the rule text.
  std::int64_t default_priority() const noexcept { return static_cast<std::int64_t>(text_.size()); }

 private:
  friend std::variant<Rule, RuleError> compile(std::string_view text);
  std::string text_;
  std::shared_ptr<const Matcher> matcher_;
  std::vector<std::string> required_hosts_;
};

/// Parses and compiles a rule; every problem is returned as a RuleError, nothing throws.
std::variant<Rule, RuleError> compile(std::string_view text);

}  // namespace berth::rules
