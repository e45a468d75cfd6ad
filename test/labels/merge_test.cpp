#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::labels::test {
namespace {

const LabelMap compose = {{"com.docker.compose.project", "shop"},
                          {"com.docker.compose.service", "web"}};

LabelMap with(LabelMap labels, const LabelMap& extra) {
  for (const auto& [key, value] : extra) labels[key] = value;
  return labels;
}

}  // namespace

TEST_CASE("N replicas make one service with N servers", "[labels][merge]") {
  for (int replicas : {1, 2, 3, 10}) {
    SECTION(std::to_string(replicas) + " replicas") {
      std::vector<ContainerInfo> containers;
      std::vector<std::string> expected;
      // Given in reverse order: the result does not depend on the input order.
      for (int i = replicas; i >= 1; --i) {
        std::string ip = "10.0.0." + std::to_string(i);
        containers.push_back(container("shop-web-" + std::to_string(i), compose, ip));
      }
      for (const auto& c : containers)
        expected.push_back("http://" + c.networks.at("net").ipv4 + ":80");
      Result result = build(containers);
      INFO(dump(result));
      CHECK(result.diagnostics.empty());
      REQUIRE(result.configuration.http.routers.size() == 1);
      CHECK(result.configuration.http.routers.at("web-shop").rule == "Host(`web-shop`)");
      auto urls = server_urls(result, "web-shop");
      std::sort(urls.begin(), urls.end());
      std::sort(expected.begin(), expected.end());
      CHECK(urls == expected);
      for (const auto& d : result.containers) CHECK(d.routed);
    }
  }
}

TEST_CASE("servers merge in container-name order, deduplicated by URL", "[labels][merge]") {
  ContainerInfo b = container("b",
                              with(compose, {{"traefik.http.services.web-shop.loadbalancer."
                                              "server.weight",
                                              "3"}}),
                              "10.0.0.2");
  ContainerInfo a = container("a",
                              with(compose, {{"traefik.http.services.web-shop.loadbalancer."
                                              "server.weight",
                                              "1"}}),
                              "10.0.0.1");
  ContainerInfo twin = container("c", compose, "10.0.0.1");  // same URL as a
  twin.labels["traefik.http.services.web-shop.loadbalancer.server.weight"] = "7";
  Result result = build({b, twin, a});
  INFO(dump(result));
  const auto* lb = load_balancer(result, "web-shop");
  REQUIRE(lb != nullptr);
  REQUIRE(lb->servers.size() == 2);
  CHECK(lb->servers[0] == config::Server{"http://10.0.0.1:80", 1, false});
  CHECK(lb->servers[1] == config::Server{"http://10.0.0.2:80", 3, false});
}

TEST_CASE("conflicting definitions remove the resource and name both containers",
          "[labels][merge]") {
  struct Case {
    const char* what;
    LabelMap first;
    LabelMap second;
    const char* kept;     // a resource that must survive
    const char* removed;  // the conflicting resource
    const char* message;
  };
  const std::vector<Case> cases = {
      {"router",
       {{"traefik.http.routers.r.rule", "Host(`a`)"}},
       {{"traefik.http.routers.r.rule", "Host(`b`)"}},
       "web-shop",
       "r",
       "router r defined differently by containers shop-web-1 and shop-web-2"},
      {"service",
       {{"traefik.http.services.web-shop.loadbalancer.passhostheader", "false"}},
       {{"traefik.http.services.web-shop.loadbalancer.passhostheader", "true"}},
       nullptr,
       "web-shop",
       "service web-shop defined differently by containers shop-web-1 and shop-web-2"},
      {"middleware",
       {{"traefik.http.middlewares.m.addprefix.prefix", "/a"}},
       {{"traefik.http.middlewares.m.addprefix.prefix", "/b"}},
       "web-shop",
       "m",
       "middleware m defined differently by containers shop-web-1 and shop-web-2"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ContainerInfo one = container("shop-web-1", with(compose, c.first), "10.0.0.1");
      ContainerInfo two = container("shop-web-2", with(compose, c.second), "10.0.0.2");
      ContainerInfo three = container("shop-web-3", with(compose, c.first), "10.0.0.3");
      Result result = build({three, two, one});
      INFO(dump(result));
      const auto& http = result.configuration.http;
      const std::string what = c.what;
      if (what == "router") CHECK_FALSE(http.routers.contains(c.removed));
      if (what == "service") CHECK_FALSE(http.services.contains(c.removed));
      if (what == "middleware") CHECK_FALSE(http.middlewares.contains(c.removed));
      if (c.kept) CHECK(http.services.contains(c.kept));
      auto found = diagnostics_with(result, c.message);
      REQUIRE(found.size() == 1);
      CHECK(found[0].name == c.removed);
      CHECK(result.diagnostics.size() == 1);
    }
  }
}

TEST_CASE("replicas may differ in server settings only", "[labels][merge]") {
  ContainerInfo one = container(
      "shop-web-1",
      with(compose, {{"traefik.http.services.web-shop.loadbalancer.server.port", "8080"}}),
      "10.0.0.1");
  ContainerInfo two = container(
      "shop-web-2",
      with(compose, {{"traefik.http.services.web-shop.loadbalancer.server.port", "9090"}}),
      "10.0.0.2");
  Result result = build({one, two});
  INFO(dump(result));
  CHECK(result.diagnostics.empty());
  CHECK(server_urls(result, "web-shop") ==
        std::vector<std::string>{"http://10.0.0.1:8080", "http://10.0.0.2:9090"});
}

TEST_CASE("a router may point at another container's service", "[labels][merge]") {
  ContainerInfo api = container("api",
                                {{"traefik.http.services.api.loadbalancer.server.port", "3000"},
                                 {"traefik.http.routers.api.rule", "PathPrefix(`/api`)"}},
                                "10.0.0.5");
  ContainerInfo front = container("front",
                                  {{"traefik.http.routers.front.rule", "Path(`/`)"},
                                   {"traefik.http.routers.front.service", "api"}},
                                  "10.0.0.6");
  Result result = build({api, front});
  INFO(dump(result));
  CHECK(result.configuration.http.routers.at("front").service == "api");
  CHECK(server_urls(result, "api") == std::vector<std::string>{"http://10.0.0.5:3000"});
  CHECK(server_urls(result, "front") == std::vector<std::string>{"http://10.0.0.6:80"});
}

}  // namespace berth::labels::test
