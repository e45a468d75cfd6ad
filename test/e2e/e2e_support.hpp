#pragma once
// What several end-to-end test files share: berth started with the flags every case uses, a
// labelled app as `docker compose` would label it, and polling of berth's API.

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "docker_cli.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"

namespace berth::e2e {

/// Containers take their time: up to 20 s, every 50 ms.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
  return test::eventually(condition, timeout, std::chrono::milliseconds{50});
}

inline nlohmann::json api_get(std::uint16_t port, const std::string& path) {
  auto response = test::http_get("127.0.0.1", port, path, std::chrono::seconds{5});
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

/// How many servers of `service` the API shows as UP.
inline std::size_t servers_up(std::uint16_t api, const std::string& service) {
  const auto json = api_get(api, "/api/http/services/" + service);
  if (!json.is_object() || !json.contains("serverStatus")) return 0;
  std::size_t up = 0;
  for (const auto& [url, status] : json["serverStatus"].items()) up += status == "UP" ? 1U : 0U;
  return up;
}

struct Berth {
  std::string container;
  std::uint16_t web = 0;
  std::uint16_t api = 0;
};

/// berth with the flags every case uses, plus `extra_flags`; `docker_args` go to `docker run`.
inline Berth start_berth(Sandbox& sandbox, const std::vector<std::string>& extra_flags = {},
                         const std::vector<std::string>& docker_args = {}) {
  Berth berth;
  std::vector<std::string> flags{"--providers.docker=true",
                                 "--providers.docker.exposedbydefault=false",
                                 "--providers.docker.network=" + sandbox.network(),
                                 "--entrypoints.web.address=:80",
                                 "--api.insecure=true",
                                 "--ping=true",
                                 "--log.level=INFO"};
  flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
  berth.container = sandbox.start_berth(flags, docker_args);
  berth.web = sandbox.published_port(berth.container, 80);
  berth.api = sandbox.published_port(berth.container, 8080);
  REQUIRE(eventually([&] { return api_get(berth.api, "/api/overview").is_object(); }));
  return berth;
}

/// The labels of every replica of compose service `app` in `project`, as `--scale` starts them.
inline std::vector<std::string> app_labels(const std::string& project) {
  return {"traefik.enable=true",
          "traefik.http.routers.app.rule=PathPrefix(`/`)",
          "traefik.http.routers.app.entrypoints=web",
          "traefik.http.services.app.loadbalancer.server.port=80",
          "traefik.http.services.app.loadbalancer.sticky.cookie=true",
          "traefik.http.services.app.loadbalancer.sticky.cookie.name=e2e_sticky",
          "com.docker.compose.project=" + project,
          "com.docker.compose.service=app"};
}

}  // namespace berth::e2e
