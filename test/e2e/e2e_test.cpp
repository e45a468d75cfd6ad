// berth as its users run it: a container with the Docker socket mounted read-only, in front of
// labelled app containers on a Docker network, all traffic to ports published on 127.0.0.1.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "docker_cli.hpp"
#include "support/http_client.hpp"

namespace {

using berth::e2e::docker;
using berth::e2e::Sandbox;
using berth::test::http_get;
using berth::test::HttpClient;
using namespace std::chrono_literals;

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

nlohmann::json api_get(std::uint16_t port, const std::string& path) {
  auto response = http_get("127.0.0.1", port, path, 5s);
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

/// How many servers of `service` the API shows as UP.
std::size_t servers_up(std::uint16_t api, const std::string& service) {
  const auto json = api_get(api, "/api/http/services/" + service);
  if (!json.is_object() || !json.contains("serverStatus")) return 0;
  std::size_t up = 0;
  for (const auto& [url, status] : json["serverStatus"].items()) up += status == "UP" ? 1U : 0U;
  return up;
}

/// The replica name berth-whoami reports.
std::string replica(const berth::test::HttpResponse& response) {
  const auto at = response.body.find("Name: ");
  if (at == std::string::npos) return {};
  return response.body.substr(at + 6, response.body.find('\n', at) - at - 6);
}

struct Berth {
  std::string container;
  std::uint16_t web = 0;
  std::uint16_t api = 0;
};

Berth start_berth(Sandbox& sandbox) {
  Berth berth;
  berth.container = sandbox.start_berth(
      {"--providers.docker=true", "--providers.docker.exposedbydefault=false",
       "--providers.docker.network=" + sandbox.network(), "--entrypoints.web.address=:80",
       "--api.insecure=true", "--ping=true", "--log.level=INFO"});
  berth.web = sandbox.published_port(berth.container, 80);
  berth.api = sandbox.published_port(berth.container, 8080);
  REQUIRE(eventually([&] { return api_get(berth.api, "/api/overview").is_object(); }));
  return berth;
}

std::vector<std::string> app_labels(const std::string& project) {
  return {"traefik.enable=true",
          "traefik.http.routers.app.rule=PathPrefix(`/`)",
          "traefik.http.routers.app.entrypoints=web",
          "traefik.http.services.app.loadbalancer.server.port=80",
          "traefik.http.services.app.loadbalancer.sticky.cookie=true",
          "traefik.http.services.app.loadbalancer.sticky.cookie.name=e2e_sticky",
          "com.docker.compose.project=" + project,
          "com.docker.compose.service=app"};
}

}  // namespace

TEST_CASE("replicas are discovered, balanced, sticky, and a stopped one gets no more requests") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("e2e" + sandbox.label().substr(sandbox.label().find('=') + 1));
  sandbox.start_app("one", labels);
  sandbox.start_app("two", labels);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 2; }));

  // One keep-alive connection stays on one worker, whose balancer alternates exactly.
  HttpClient client("127.0.0.1", berth.web);
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 6; ++i) {
    auto response = client.get("/");
    REQUIRE(response);
    REQUIRE(response->status == 200);
    const std::string name = replica(*response);
    CHECK(name != previous);
    previous = name;
    seen.insert(name);
  }
  CHECK(seen == std::set<std::string>{"one", "two"});

  // The cookie keeps a user on its replica, on any connection.
  auto first = http_get("127.0.0.1", berth.web, "/", 5s);
  REQUIRE(first);
  const auto cookie = first->header("Set-Cookie");
  REQUIRE(cookie);
  CHECK_THAT(*cookie, Catch::StartsWith("e2e_sticky="));
  const std::string pinned = replica(*first);
  for (int i = 0; i < 5; ++i) {
    HttpClient fresh("127.0.0.1", berth.web);
    auto response = fresh.get("/", {{"Cookie", cookie->substr(0, cookie->find(';'))}});
    REQUIRE(response);
    CHECK(replica(*response) == pinned);
  }

  // Scaling up: the new replica takes traffic without any restart.
  sandbox.start_app("three", labels);
  CHECK(eventually([&] {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    return response && replica(*response) == "three";
  }));

  // Scaling down: once berth has seen the stop, no request reaches the stopped replica.
  const std::string one =
      "berth-e2e-" + sandbox.label().substr(sandbox.label().find('=') + 1) + "-one";
  REQUIRE(docker({"stop", "-t", "5", one}));
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 2; }));
  for (int i = 0; i < 20; ++i) {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(replica(*response) != "one");
  }
}

TEST_CASE("a bad label disables only its own router, and the API says why") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  sandbox.start_app("good",
                    {"traefik.enable=true", "traefik.http.routers.good.rule=Host(`good.test`)",
                     "traefik.http.services.good.loadbalancer.server.port=80"});
  sandbox.start_app("bad", {"traefik.enable=true", "traefik.http.routers.bad.rule=Host(`bad.test`",
                            "traefik.http.services.bad.loadbalancer.server.port=80"});
  REQUIRE(eventually([&] { return servers_up(berth.api, "good@docker") == 1; }));

  HttpClient client("127.0.0.1", berth.web);
  auto good = client.get("/", {{"Host", "good.test"}});
  REQUIRE(good);
  CHECK(good->status == 200);
  CHECK(replica(*good) == "good");
  auto bad = client.get("/", {{"Host", "bad.test"}});
  REQUIRE(bad);
  CHECK(bad->status == 404);

  nlohmann::json router;
  REQUIRE(eventually([&] {
    router = api_get(berth.api, "/api/http/routers/bad@docker");
    return router.is_object();
  }));
  CHECK(router["status"] == "disabled");
  REQUIRE(router["error"].is_array());
  REQUIRE_FALSE(router["error"].empty());

  const auto containers = api_get(berth.api, "/api/providers/docker/containers");
  REQUIRE(containers.is_array());
  std::size_t ours = 0;
  for (const auto& container : containers) {
    const std::string name = container.value("name", "");
    if (name.find("-good") != std::string::npos || name.find("-bad") != std::string::npos) ++ours;
  }
  CHECK(ours == 2);
}

TEST_CASE("a request in flight finishes when its container is stopped") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const std::string app = sandbox.start_app(
      "slow", {"traefik.enable=true", "traefik.http.routers.slow.rule=PathPrefix(`/`)",
               "traefik.http.services.slow.loadbalancer.server.port=80"});
  REQUIRE(eventually([&] { return servers_up(berth.api, "slow@docker") == 1; }));

  std::optional<berth::test::Result<berth::test::HttpResponse>> slow;
  std::thread request([&] { slow = http_get("127.0.0.1", berth.web, "/?delay=1500ms", 10s); });
  std::this_thread::sleep_for(500ms);
  REQUIRE(docker({"stop", "-t", "10", app}));
  request.join();
  REQUIRE(slow);
  REQUIRE(*slow);
  CHECK((*slow)->status == 200);
  CHECK(replica(**slow) == "slow");
}

TEST_CASE("a replica whose healthcheck fails gets no traffic and the API says why") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("health");
  sandbox.start_app("steady", labels);
  const std::string flaky = sandbox.start_app("flaky", labels);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 2; }));

  // Switch flaky's health endpoint to failing, through berth, pinned to flaky by its cookie.
  std::string cookie;
  REQUIRE(eventually([&] {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    if (!response || replica(*response) != "flaky" || !response->header("Set-Cookie")) return false;
    cookie = *response->header("Set-Cookie");
    cookie = cookie.substr(0, cookie.find(';'));
    return true;
  }));
  HttpClient pinned("127.0.0.1", berth.web);
  auto switched = pinned.get("/health?set=fail", {{"Cookie", cookie}});
  REQUIRE(switched);
  CHECK(switched->status == 503);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 1; }, 30s));
  for (int i = 0; i < 20; ++i) {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    REQUIRE(response);
    CHECK(replica(*response) == "steady");
  }
  const auto containers = api_get(berth.api, "/api/providers/docker/containers");
  bool excluded_with_reason = false;
  for (const auto& container : containers) {
    if (container.value("name", "") == flaky) {
      excluded_with_reason = !container.value("routed", true) &&
                             container.value("reason", "").find("unhealthy") != std::string::npos;
    }
  }
  CHECK(excluded_with_reason);
}

TEST_CASE(
    "a stopping replica is drained before it dies, and scaling down under load fails nothing") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("drain");
  std::vector<std::string> replicas;
  for (const char* name : {"r1", "r2", "r3", "r4"})
    replicas.push_back(sandbox.start_app(name, labels));
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 4; }));

  // Constant load on several connections while three replicas stop.
  std::atomic<bool> stop_load{false};
  std::atomic<int> sent{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> load;
  for (int worker = 0; worker < 4; ++worker) {
    load.emplace_back([&] {
      HttpClient client("127.0.0.1", berth.web);
      while (!stop_load) {
        auto response = client.get("/");
        ++sent;
        if (!response || response->status != 200) ++failed;
      }
    });
  }
  std::this_thread::sleep_for(500ms);

  // A slow request keeps r1 alive after SIGTERM: while it runs, r1 is still running but drained.
  std::optional<berth::test::Result<berth::test::HttpResponse>> slow;
  std::thread slow_request([&] {
    HttpClient client("127.0.0.1", berth.web);
    // Pin the slow request to r1 through the sticky cookie of an r1 answer.
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto response = client.get("/");
      if (!response || replica(*response) != "r1") continue;
      const auto cookie = response->header("Set-Cookie");
      if (!cookie) continue;
      slow = client.get("/?delay=2s", {{"Cookie", cookie->substr(0, cookie->find(';'))}});
      return;
    }
  });
  std::this_thread::sleep_for(300ms);
  std::thread stopping([&] { docker({"stop", "-t", "10", replicas[0]}); });
  const bool drained_while_running = eventually(
      [&] {
        const auto state = docker({"inspect", "-f", "{{.State.Running}}", replicas[0]});
        return servers_up(berth.api, "app@docker") == 3 && state && *state == "true";
      },
      5s);
  for (std::size_t i = 1; i < 3; ++i) REQUIRE(docker({"stop", "-t", "10", replicas[i]}));
  stopping.join();
  slow_request.join();
  std::this_thread::sleep_for(500ms);
  stop_load = true;
  for (auto& thread : load) thread.join();

  CHECK(drained_while_running);
  REQUIRE(slow);
  REQUIRE(*slow);
  CHECK((*slow)->status == 200);
  CHECK(sent > 100);
  CHECK(failed == 0);
  CHECK(servers_up(berth.api, "app@docker") == 1);
}
