#pragma once
// Client addresses as Traefik's ipStrategy sees them, IP ranges, and the sourceCriterion that keys
// rate limits and in-flight counters.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/config/dynamic.hpp"
#include "berth/rules/rule.hpp"
#include "middleware.hpp"

namespace berth::middleware {

/// An address or a CIDR network.
struct IpRange {
  rules::IpAddress network;
  unsigned prefix_bits = 128;  ///< over the 16-byte form (IPv4 ranges add 96)
  bool contains(const rules::IpAddress& address) const noexcept;
};

/// Parses "10.0.0.0/8", "192.168.1.7", "2001:db8::/32".
std::variant<IpRange, std::string> parse_range(std::string_view text);

class IpRanges {
 public:
  static std::variant<IpRanges, std::string> parse(const config::StringList& ranges);
  bool contains(std::string_view address) const;
  bool empty() const noexcept { return ranges_.empty(); }

 private:
  std::vector<IpRange> ranges_;
};

/// Traefik's ipStrategy: depth in X-Forwarded-For from the right, else the rightmost address not in
/// excludedIPs, else (no strategy options) the peer address.
class IpStrategy {
 public:
  static std::variant<IpStrategy, std::string> make(const std::optional<config::IpStrategy>& c);
  /// The client address this strategy picks; may be empty (then nothing is allowed).
  std::string_view client_ip(const RequestContext& context) const;

 private:
  std::size_t depth_ = 0;
  std::optional<IpRanges> excluded_;
};

/// What a rate limit or in-flight limit is keyed by.
class SourceCriterion {
 public:
  static std::variant<SourceCriterion, std::string> make(
      const std::optional<config::SourceCriterion>& c);
  std::string_view key(const RequestContext& context) const;

 private:
  enum class Kind { ip, host, header };
  Kind kind_ = Kind::ip;
  IpStrategy strategy_;
  std::string header_;
};

}  // namespace berth::middleware
