#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::labels::test {

TEST_CASE("traefik.enable and exposedByDefault", "[labels][filter]") {
  struct Case {
    const char* what;
    bool exposed_by_default;
    LabelMap labels;
    bool kept;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"exposed by default", true, {}, true, "routed to"},
      {"enable=false", true, {{"traefik.enable", "false"}}, false, "traefik.enable=false"},
      {"not exposed by default", false, {}, false, "exposedByDefault is false"},
      {"enable=true when not exposed by default",
       false,
       {{"traefik.enable", "true"}},
       true,
       "routed to"},
      {"case-insensitive key and value", false, {{"Traefik.Enable", "TRUE"}}, true, "routed to"},
      {"invalid value", true, {{"traefik.enable", "yes"}}, false, "invalid traefik.enable"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ProviderOptions options;
      options.exposed_by_default = c.exposed_by_default;
      Result result = build_one(container("app", c.labels), options);
      INFO(dump(result));
      CHECK(result.configuration.http.routers.contains("app") == c.kept);
      const auto* d = decision(result, "app");
      REQUIRE(d != nullptr);
      CHECK(d->routed == c.kept);
      CHECK(d->reason.find(c.reason) != std::string::npos);
    }
  }
}

TEST_CASE("constraints", "[labels][filter]") {
  struct Case {
    const char* expression;
    bool kept;
  };
  const LabelMap labels = {{"team", "shop"}, {"tier", "frontend-v2"}};
  const std::vector<Case> cases = {
      {"", true},
      {"Label(`team`, `shop`)", true},
      {"Label(`team`, `other`)", false},
      {"Label(`missing`, ``)", false},
      {"LabelRegex(`tier`, `front.*`)", true},
      {"LabelRegex(`tier`, `end-v`)", true},  // unanchored, as Go's MatchString
      {"LabelRegex(`tier`, `^back`)", false},
      {"!Label(`team`, `shop`)", false},
      {"Label(`team`, `shop`) && LabelRegex(`tier`, `v2$`)", true},
      {"Label(`team`, `x`) || Label(`tier`, `frontend-v2`)", true},
      {"!(Label(`team`, `x`) || Label(`tier`, `y`))", true},
  };
  for (const auto& c : cases) {
    SECTION(c.expression) {
      ProviderOptions options;
      options.constraints = c.expression;
      Result result = build_one(container("app", labels), options);
      INFO(dump(result));
      CHECK(result.diagnostics.empty());
      CHECK(decision(result, "app")->routed == c.kept);
      if (!c.kept) CHECK(decision(result, "app")->reason.find("constraints") != std::string::npos);
    }
  }
}

TEST_CASE("an invalid constraints expression excludes every container", "[labels][filter]") {
  const std::vector<const char*> expressions = {
      "Label(`a`)", "Nope(`a`, `b`)", "LabelRegex(`a`, `(`)", "Label(`a`, `b`) &&", "((",
  };
  for (const char* expression : expressions) {
    SECTION(expression) {
      ProviderOptions options;
      options.constraints = expression;
      Result result = build(std::vector{container("a", {}), container("b", {})}, options);
      INFO(dump(result));
      CHECK(result.configuration.http.routers.empty());
      auto found = diagnostics_with(result, "invalid constraints expression");
      REQUIRE(found.size() == 1);
      CHECK(found[0].resource == config::ResourceKind::provider);
      CHECK(result.containers.size() == 2);
      for (const auto& d : result.containers) CHECK_FALSE(d.routed);
    }
  }
}

TEST_CASE("state and health", "[labels][filter]") {
  struct Case {
    const char* what;
    std::string state;
    std::string health;
    LabelMap labels;
    bool allow_empty_services;
    bool has_router;
    std::size_t servers;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"running, no health check", "running", "", {}, false, true, 1, "routed to"},
      {"running and healthy", "running", "healthy", {}, false, true, 1, "routed to"},
      {"exited", "exited", "", {}, false, false, 0, "not running (exited)"},
      {"paused", "paused", "", {}, false, false, 0, "not running (paused)"},
      {"exited with allownonrunning",
       "exited",
       "",
       {{"traefik.docker.allownonrunning", "true"}},
       false,
       true,
       0,
       "allownonrunning"},
      {"starting", "running", "starting", {}, false, false, 0, "health is starting"},
      {"unhealthy", "running", "unhealthy", {}, false, false, 0, "health is unhealthy"},
      {"unhealthy with allowEmptyServices",
       "running",
       "unhealthy",
       {},
       true,
       true,
       0,
       "allowEmptyServices"},
      {"starting with allowEmptyServices",
       "running",
       "starting",
       {},
       true,
       true,
       0,
       "allowEmptyServices"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ContainerInfo info = container("app", c.labels);
      info.state = c.state;
      info.health = c.health;
      if (c.state != "running") info.networks.clear();  // a stopped container has no address
      ProviderOptions options;
      options.allow_empty_services = c.allow_empty_services;
      Result result = build_one(info, options);
      INFO(dump(result));
      CHECK(result.configuration.http.routers.contains("app") == c.has_router);
      if (c.has_router) {
        REQUIRE(load_balancer(result, "app") != nullptr);
        CHECK(load_balancer(result, "app")->servers.size() == c.servers);
      } else {
        CHECK(result.configuration.http.services.empty());
      }
      const auto* d = decision(result, "app");
      REQUIRE(d != nullptr);
      CHECK(d->routed == (c.servers > 0));
      CHECK(d->reason.find(c.reason) != std::string::npos);
    }
  }
}

TEST_CASE("draining containers", "[labels][filter]") {
  SECTION("alone: routers and service kept, no servers") {
    ContainerInfo info = container("app", {});
    info.draining = true;
    Result result = build_one(info);
    INFO(dump(result));
    CHECK(result.configuration.http.routers.contains("app"));
    REQUIRE(load_balancer(result, "app") != nullptr);
    CHECK(load_balancer(result, "app")->servers.empty());
    CHECK_FALSE(decision(result, "app")->routed);
    CHECK(decision(result, "app")->draining);
    CHECK(decision(result, "app")->reason.find("draining") != std::string::npos);
  }
  const LabelMap compose = {{"com.docker.compose.project", "shop"},
                            {"com.docker.compose.service", "web"}};
  SECTION("with replicas: only its server leaves") {
    ContainerInfo a = container("shop-web-1", compose, "10.0.0.1");
    ContainerInfo b = container("shop-web-2", compose, "10.0.0.2");
    a.draining = true;
    Result result = build({a, b});
    INFO(dump(result));
    CHECK(server_urls(result, "web-shop") == std::vector<std::string>{"http://10.0.0.2:80"});
    CHECK(result.configuration.http.routers.contains("web-shop"));
    CHECK(decision(result, "shop-web-2")->routed);
  }
  SECTION("a stopping old version never conflicts with the new one") {
    LabelMap old_labels = compose;
    old_labels["traefik.http.routers.web-shop.rule"] = "Host(`old`)";
    LabelMap new_labels = compose;
    new_labels["traefik.http.routers.web-shop.rule"] = "Host(`new`)";
    ContainerInfo old_one = container("shop-web-1", old_labels, "10.0.0.1");
    ContainerInfo new_one = container("shop-web-2", new_labels, "10.0.0.2");
    old_one.draining = true;
    Result result = build({old_one, new_one});
    INFO(dump(result));
    REQUIRE(result.configuration.http.routers.contains("web-shop"));
    CHECK(result.configuration.http.routers.at("web-shop").rule == "Host(`new`)");
    CHECK(result.diagnostics.empty());
  }
}

TEST_CASE("every container gets a decision", "[labels][filter]") {
  ContainerInfo stopped = container("stopped", {});
  stopped.state = "exited";
  Result result =
      build({container("b", {}), stopped, container("a", {{"traefik.enable", "false"}})});
  REQUIRE(result.containers.size() == 3);
  CHECK(result.containers[0].name == "a");
  CHECK(result.containers[1].name == "b");
  CHECK(result.containers[2].name == "stopped");
  for (const auto& d : result.containers) {
    INFO(d.name);
    CHECK_FALSE(d.reason.empty());
    CHECK_FALSE(d.id.empty());
  }
}

}  // namespace berth::labels::test
