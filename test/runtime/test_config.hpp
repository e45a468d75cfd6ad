#pragma once
// Small builders for dynamic configurations used by the runtime tests.

#include <string>
#include <utility>
#include <vector>

#include "berth/config/dynamic.hpp"

namespace berth::runtime::test {

inline config::Router router(std::string rule, std::string service, std::int64_t priority = 0,
                             std::vector<std::string> entry_points = {},
                             std::vector<std::string> middlewares = {}) {
  config::Router r;
  r.rule = std::move(rule);
  r.service = std::move(service);
  r.priority = priority;
  r.entry_points = std::move(entry_points);
  r.middlewares = std::move(middlewares);
  return r;
}

inline config::Service load_balancer(
    const std::vector<std::pair<std::string, std::int64_t>>& servers, bool sticky = false) {
  config::LoadBalancer lb;
  for (const auto& [url, weight] : servers) {
    config::Server server;
    server.url = url;
    server.weight = weight;
    lb.servers.push_back(server);
  }
  if (sticky) lb.sticky = config::Sticky{config::Cookie{}};
  return config::Service{lb};
}

inline config::Service weighted(const std::vector<std::pair<std::string, std::int64_t>>& children,
                                bool sticky = false) {
  config::Weighted w;
  for (const auto& [name, weight] : children) w.services.push_back({name, weight});
  if (sticky) w.sticky = config::Sticky{config::Cookie{}};
  return config::Service{w};
}

}  // namespace berth::runtime::test
