#include "berth/runtime/balancer.hpp"

#include <cctype>

namespace berth::runtime {
namespace {

bool is_cookie_header(std::string_view name) {
  constexpr std::string_view cookie = "cookie";
  if (name.size() != cookie.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != cookie[i]) return false;
  }
  return true;
}

std::optional<std::string_view> request_cookie(const rules::RequestView& request,
                                               std::string_view name) {
  for (const auto& field : request.headers) {
    if (!is_cookie_header(field.name)) continue;
    if (auto value = find_cookie(field.value, name)) return value;
  }
  return std::nullopt;
}

void add_cookie(Pick& out, const StickyCookie& cookie, std::string_view value) {
  if (out.cookie_count < out.cookies.size()) out.cookies[out.cookie_count++] = {&cookie, value};
}

/// nginx's smooth weighted round robin: every eligible member gains its weight, the richest is
/// picked and pays the total. Returns the member index, or npos when none is eligible.
template <class Eligible>
std::size_t smooth_wrr(std::vector<std::int64_t>& current, Eligible&& eligible,
                       const auto& weight_of) {
  std::size_t best = std::string_view::npos;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < current.size(); ++i) {
    if (!eligible(i)) continue;
    const auto weight = static_cast<std::int64_t>(weight_of(i));
    current[i] += weight;
    total += weight;
    if (best == std::string_view::npos || current[i] > current[best]) best = i;
  }
  if (best != std::string_view::npos) current[best] -= total;
  return best;
}

// Nesting deeper than this is far beyond any sane configuration; it only bounds the recursion.
constexpr int max_depth = 32;

}  // namespace

Balancer::Balancer(std::shared_ptr<const Snapshot> snapshot) : snapshot_(std::move(snapshot)) {
  current_.reserve(snapshot_->services.size());
  for (const auto& service : snapshot_->services) {
    const std::size_t members = service.kind == ServiceNode::Kind::load_balancer
                                    ? service.servers.size()
                                    : service.children.size();
    current_.emplace_back(members, 0);
  }
}

bool Balancer::available(std::size_t index) const noexcept {
  const ServiceNode& node = snapshot_->services[index];
  if (node.kind == ServiceNode::Kind::load_balancer) {
    for (const auto& server : node.servers) {
      if (server.weight > 0 && server.up()) return true;
    }
    return false;
  }
  for (const auto& child : node.children) {
    if (child.weight > 0 && available(child.service)) return true;
  }
  return false;
}

Pick Balancer::pick(std::size_t service, const rules::RequestView& request) {
  Pick out;
  if (service < snapshot_->services.size()) out.server = pick_in(service, request, out, 0);
  if (out.server == nullptr) {
    out.cookie_count = 0;
    out.service = nullptr;
  }
  return out;
}

const ServerTarget* Balancer::pick_in(std::size_t index, const rules::RequestView& request,
                                      Pick& out, int depth) {
  if (depth > max_depth) return nullptr;
  const ServiceNode& node = snapshot_->services[index];
  const bool is_lb = node.kind == ServiceNode::Kind::load_balancer;

  if (node.sticky) {
    if (auto value = request_cookie(request, node.sticky->name)) {
      if (is_lb) {
        for (const auto& server : node.servers) {
          const bool hashed = server.sticky_value == *value;
          // Legacy cookies held the raw URL; accept them and rewrite to the hash.
          if ((hashed || server.url == *value) && server.weight > 0 && server.up()) {
            if (!hashed) add_cookie(out, *node.sticky, server.sticky_value);
            out.service = &node;
            return &server;
          }
        }
      } else {
        for (const auto& child : node.children) {
          const bool hashed = child.sticky_value == *value;
          if ((hashed || child.name == *value) && child.weight > 0 && available(child.service)) {
            if (!hashed) add_cookie(out, *node.sticky, child.sticky_value);
            return pick_in(child.service, request, out, depth + 1);
          }
        }
      }
    }
  }

  auto& current = current_[index];
  if (is_lb) {
    const std::size_t chosen = smooth_wrr(
        current, [&](std::size_t i) { return node.servers[i].weight > 0 && node.servers[i].up(); },
        [&](std::size_t i) { return node.servers[i].weight; });
    if (chosen == std::string_view::npos) return nullptr;
    if (node.sticky) add_cookie(out, *node.sticky, node.servers[chosen].sticky_value);
    out.service = &node;
    return &node.servers[chosen];
  }
  const std::size_t chosen = smooth_wrr(
      current,
      [&](std::size_t i) {
        return node.children[i].weight > 0 && available(node.children[i].service);
      },
      [&](std::size_t i) { return node.children[i].weight; });
  if (chosen == std::string_view::npos) return nullptr;
  if (node.sticky) add_cookie(out, *node.sticky, node.children[chosen].sticky_value);
  return pick_in(node.children[chosen].service, request, out, depth + 1);
}

}  // namespace berth::runtime
