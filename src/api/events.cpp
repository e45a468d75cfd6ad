#include "berth/api/events.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "resources.hpp"

namespace berth::api {

namespace {

template <class Map, class Same>
NameChanges compare(const Map& before, const Map& after, Same same) {
  NameChanges out;
  // Both maps are ordered: one merge pass yields sorted lists.
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      out.removed.push_back(b->first);
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      out.added.push_back(a->first);
      ++a;
    } else {
      if (!same(b->second, a->second)) out.changed.push_back(a->first);
      ++b;
      ++a;
    }
  }
  return out;
}

std::map<std::string, labels::ContainerDecision> by_name(
    const std::vector<labels::ContainerDecision>& containers) {
  std::map<std::string, labels::ContainerDecision> out;
  for (const labels::ContainerDecision& container : containers) {
    out.emplace(container.name.empty() ? container.id : container.name, container);
  }
  return out;
}

nlohmann::json names_json(const NameChanges& changes) {
  return {{"added", changes.added}, {"removed", changes.removed}, {"changed", changes.changed}};
}

}  // namespace

Changes diff(const State& before, const State& after) {
  const Resources old_resources = build_resources(before);
  const Resources new_resources = build_resources(after);
  const auto same_item = [](const Item& x, const Item& y) { return x.body == y.body; };
  const auto equal = [](const auto& x, const auto& y) { return x == y; };

  Changes out;
  out.routers = compare(old_resources.routers, new_resources.routers, same_item);
  out.services = compare(old_resources.services, new_resources.services, same_item);
  out.middlewares = compare(old_resources.middlewares, new_resources.middlewares, same_item);
  out.containers = compare(by_name(before.containers), by_name(after.containers), equal);

  const NameChanges servers = compare(before.server_status, after.server_status, equal);
  for (const std::string& url : servers.added) {
    out.servers.push_back({url, after.server_status.at(url)});
  }
  for (const std::string& url : servers.changed) {
    out.servers.push_back({url, after.server_status.at(url)});
  }
  for (const std::string& url : servers.removed) out.servers.push_back({url, ""});
  std::sort(out.servers.begin(), out.servers.end(),
            [](const ServerChange& x, const ServerChange& y) { return x.url < y.url; });
  return out;
}

nlohmann::json to_json(const Changes& changes, const std::string& time) {
  nlohmann::json servers = nlohmann::json::array();
  for (const ServerChange& server : changes.servers) {
    servers.push_back({{"url", server.url}, {"status", server.status}});
  }
  return {{"time", time},
          {"routers", names_json(changes.routers)},
          {"services", names_json(changes.services)},
          {"middlewares", names_json(changes.middlewares)},
          {"containers", names_json(changes.containers)},
          {"servers", std::move(servers)}};
}

}  // namespace berth::api
