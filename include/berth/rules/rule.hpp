#pragma once
// Traefik v3 rules: `Host(`a.example`) && (PathPrefix(`/api`) || !Method(`GET`))`.
// A rule is parsed and compiled once; matching a request view then neither allocates nor throws.
//
// Matcher names are accepted as written below, all lower-case, all upper-case or Title case
// (Host, host, HOST; PathPrefix, pathprefix, PATHPREFIX, Pathprefix), and behave as in Traefik v3
// (pkg/muxer/http/matcher.go). Empty arguments are errors, as in Traefik.
// - Host(h): the request host without port and IPv6 brackets, case-insensitive, one trailing dot
//   ignored on either side. `*` matches any host (even none); `*.example.com` matches one label in
//   front of example.com (Traefik 3.7).
// - HostRegexp(re): RE2, unanchored, against the lower-cased host without port (trailing dot kept).
// - Path(p), PathPrefix(p), PathRegexp(re): against the routing path, the raw path with the escapes
//   of unreserved characters decoded and those of reserved ones (: / ? # [ ] @ ! $ & ' ( ) * + , ;
//   = %) kept, hex upper-cased. p must start with '/'.
// - Method(m): the request method (case-sensitive) equals m upper-cased.
// - Header(k, v), HeaderRegexp(k, re): some field named k (any case) has the value v / matching re.
// - Query(k[, v]), QueryRegexp(k[, re]): some pair decoded as Go's url.ParseQuery does (%XX and
//   '+'; pairs with ';' or bad escapes skipped) has key k and value v / matching re. Without v the
//   value must be empty: Query(`k`) matches `?k` and `?k=` but not `?k=1`, exactly as Traefik
//   (QueryRegexp(`k`, `.*`) tests for presence).
// - ClientIP(ip|cidr): the connection's peer address, never X-Forwarded-For; an IPv4 network also
//   holds IPv4-mapped IPv6 peers (::ffff:a.b.c.d), an IPv6 network never holds IPv4 peers (as Go).
//
// Deliberate deviations from Traefik:
// - reserved escapes stay encoded whatever their hex case (Traefik decodes `%2f`, keeps `%2F`);
// - regexps see the decoded path or query value only when it fits a 16 KiB stack buffer, longer
//   ones are matched raw; HostRegexp lower-cases hosts up to 1 KiB, longer ones are matched as
//   sent;
// - a '%' without two hex digits is compared literally (Traefik answers 400 before routing; the
//   proxy should do the same, see has_valid_percent_encoding());
// - Traefik also tries HostRegexp on the CNAME-flattened host, which is "" when flattening is off,
//   so there a regexp matching "" matches every request; here it sees only the request's host.

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
  std::string_view host;   ///< Host header or absolute-form authority, port allowed
  std::string_view path;   ///< raw path, without the query
  std::string_view query;  ///< raw query, without '?'
  std::span<const HeaderField> headers;
  std::optional<IpAddress> client_ip;  ///< the connection's peer address
};

/// A parse or validation error, with the 0-based byte offset in the rule text where it was found.
struct RuleError {
  std::size_t position = 0;
  std::string message;
  /// "unexpected ')' at 23"; an empty rule has no meaningful position and renders as "empty rule".
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

  /// Lower-cased hosts one of which the request's host must equal for the rule to match (from
  /// Host() matchers that every match needs); empty when the rule can match without a fixed host,
  /// so an index by host can put it in its fallback list. Sorted, unique, one trailing dot removed;
  /// look them up with the ASCII-lower-cased routing_host() of the request.
  ///   Host(`A.com`) && Path(`/`)              -> {a.com}
  ///   Host(`a`) || host(`b`)                  -> {a, b}
  ///   Host(`a`) && (Host(`a`) || Host(`b`))   -> {a} (intersection)
  ///   Host(`a`) || Path(`/`), !Host(`a`), Host(`*.a.com`), Host(`*`), HostRegexp(`a`) -> {}
  ///   Host(`a`) && Host(`b`) (can never match)  -> {}
  const std::vector<std::string>& required_hosts() const noexcept { return required_hosts_; }

  /// Prefixes, as written in the rule, one of which the routing path must start with for the rule
  /// to match (from Path() and PathPrefix() matchers that every match needs); empty when any path
  /// can match. Sorted, unique. For a path index, as required_hosts() is for a host index.
  ///   PathPrefix(`/a`) && Method(`GET`)            -> {/a}
  ///   Path(`/a`) || PathPrefix(`/b`)              -> {/a, /b}
  ///   PathPrefix(`/a`) && PathPrefix(`/ab`)       -> {/ab} (the most selective operand)
  ///   PathPrefix(`/a`) || Host(`x`), !PathPrefix(`/a`), PathRegexp(`/a`) -> {}
  const std::vector<std::string>& required_path_prefixes() const noexcept {
    return required_path_prefixes_;
  }

  /// Traefik's default priority: the length of the rule text.
  std::int64_t default_priority() const noexcept { return static_cast<std::int64_t>(text_.size()); }

 private:
  friend std::variant<Rule, RuleError> compile(std::string_view text);
  std::string text_;
  std::shared_ptr<const Matcher> matcher_;
  std::vector<std::string> required_hosts_;
  std::vector<std::string> required_path_prefixes_;
};

/// Parses and compiles a rule; every problem is returned as a RuleError, nothing throws.
std::variant<Rule, RuleError> compile(std::string_view text);

/// The request host as Host() compares it: port, IPv6 brackets and surrounding whitespace removed
/// as Traefik does (Go's net.SplitHostPort), then one trailing dot; case kept.
std::string_view routing_host(std::string_view host) noexcept;

/// False when the raw path has a '%' not followed by two hex digits; Traefik answers such requests
/// with 400 before routing.
bool has_valid_percent_encoding(std::string_view raw_path) noexcept;

}  // namespace berth::rules
