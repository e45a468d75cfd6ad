// ipAllowList, and the address logic shared with rateLimit and inFlightReq.

#include "ip.hpp"

#include <charconv>

namespace berth::middleware {

bool IpRange::contains(const rules::IpAddress& address) const noexcept {
  // An IPv6 range never holds IPv4 addresses, as Go's net.IPNet; an IPv4 range compares the
  // IPv4-mapped form, so it holds nothing else.
  if (!network.is_v4 && address.is_v4) return false;
  unsigned bits = prefix_bits;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<std::uint8_t>(0xFFU << (8 - take));
    if ((address.bytes[i] & mask) != (network.bytes[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::variant<IpRange, std::string> parse_range(std::string_view text) {
  text = trim(text);
  const auto slash = text.find('/');
  const auto address = rules::IpAddress::parse(text.substr(0, slash));
  if (!address) return "invalid IP address or CIDR \"" + std::string(text) + "\"";
  IpRange range{*address, 128};
  if (slash != std::string_view::npos) {
    const auto bits_text = text.substr(slash + 1);
    unsigned bits = 0;
    const auto [end, ec] =
        std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
    const unsigned max = address->is_v4 ? 32 : 128;
    if (ec != std::errc{} || end != bits_text.data() + bits_text.size() || bits_text.empty() ||
        bits > max) {
      return "invalid CIDR \"" + std::string(text) + "\"";
    }
    range.prefix_bits = address->is_v4 ? bits + 96 : bits;
  }
  return range;
}

std::variant<IpRanges, std::string> IpRanges::parse(const config::StringList& ranges) {
  IpRanges result;
  for (const auto& text : ranges) {
    auto range = parse_range(text);
    if (auto* error = std::get_if<std::string>(&range)) return std::move(*error);
    result.ranges_.push_back(std::get<IpRange>(range));
  }
  return result;
}

bool IpRanges::contains(std::string_view address) const {
  const auto parsed = rules::IpAddress::parse(trim(address));
  if (!parsed) return false;
  for (const auto& range : ranges_) {
    if (range.contains(*parsed)) return true;
  }
  return false;
}

std::variant<IpStrategy, std::string> IpStrategy::make(const std::optional<config::IpStrategy>& c) {
  IpStrategy strategy;
  if (!c) return strategy;
  if (c->depth < 0) return std::string("ipStrategy.depth must not be negative");
  // Refused rather than ignored, so a configuration that relies on it does not silently differ.
  if (c->ipv6_subnet != 0) return std::string("ipStrategy.ipv6Subnet is not supported");
  strategy.depth_ = static_cast<std::size_t>(c->depth);
  if (strategy.depth_ == 0 && !c->excluded_ips.empty()) {
    auto ranges = IpRanges::parse(c->excluded_ips);
    if (auto* error = std::get_if<std::string>(&ranges)) {
      return "ipStrategy.excludedIPs: " + *error;
    }
    strategy.excluded_ = std::move(std::get<IpRanges>(ranges));
  }
  return strategy;
}

std::string_view IpStrategy::client_ip(const RequestContext& context) const {
  if (depth_ == 0 && !excluded_) return context.client_ip;
  // Go's Header.Get: the first X-Forwarded-For field only. Items are walked from the right.
  std::string_view rest = context.request["X-Forwarded-For"];
  std::size_t position = 0;
  while (true) {
    const auto comma = rest.rfind(',');
    const auto item = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    ++position;
    if (depth_ > 0) {
      if (position == depth_) return item;
    } else if (!item.empty() && !excluded_->contains(item)) {
      return item;
    }
    if (comma == std::string_view::npos) return {};
    rest = rest.substr(0, comma);
  }
}

std::variant<SourceCriterion, std::string> SourceCriterion::make(
    const std::optional<config::SourceCriterion>& c) {
  SourceCriterion criterion;
  if (!c) return criterion;
  const int set = (c->ip_strategy ? 1 : 0) + (c->request_header_name.empty() ? 0 : 1) +
                  (c->request_host ? 1 : 0);
  if (set > 1) {
    return std::string(
        "sourceCriterion: ipStrategy, requestHeaderName and requestHost are mutually exclusive");
  }
  if (!c->request_header_name.empty()) {
    criterion.kind_ = Kind::header;
    criterion.header_ = c->request_header_name;
  } else if (c->request_host) {
    criterion.kind_ = Kind::host;
  } else {
    auto strategy = IpStrategy::make(c->ip_strategy);
    if (auto* error = std::get_if<std::string>(&strategy)) return std::move(*error);
    criterion.strategy_ = std::move(std::get<IpStrategy>(strategy));
  }
  return criterion;
}

std::string_view SourceCriterion::key(const RequestContext& context) const {
  switch (kind_) {
    case Kind::header:
      return context.request[header_];
    case Kind::host:
      return context.request[http::field::host];
    case Kind::ip:
      break;
  }
  return strategy_.client_ip(context);
}

namespace {

class IpAllowList final : public Middleware {
 public:
  IpAllowList(IpRanges ranges, IpStrategy strategy, http::status reject)
      : ranges_(std::move(ranges)), strategy_(std::move(strategy)), reject_(reject) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto ip = strategy_.client_ip(context);
    if (!ip.empty() && ranges_.contains(ip)) return std::nullopt;
    return Respond{make_response(reject_, std::string(http::obsolete_reason(reject_)),
                                 context.request.version())};
  }

 private:
  IpRanges ranges_;
  IpStrategy strategy_;
  http::status reject_;
};

}  // namespace

Compiled make_ip_allow_list(const config::IpAllowList& c) {
  if (c.source_range.empty()) return std::string("sourceRange is empty");
  auto ranges = IpRanges::parse(c.source_range);
  if (auto* error = std::get_if<std::string>(&ranges)) return "sourceRange: " + *error;
  auto strategy = IpStrategy::make(c.ip_strategy);
  if (auto* error = std::get_if<std::string>(&strategy)) return std::move(*error);
  auto reject = http::status::forbidden;
  if (c.reject_status_code != 0) {
    if (c.reject_status_code < 100 || c.reject_status_code > 599) {
      return "rejectStatusCode " + std::to_string(c.reject_status_code) + " is no HTTP status";
    }
    reject = static_cast<http::status>(c.reject_status_code);
  }
  return std::make_shared<const IpAllowList>(std::move(std::get<IpRanges>(ranges)),
                                             std::move(std::get<IpStrategy>(strategy)), reject);
}

}  // namespace berth::middleware
