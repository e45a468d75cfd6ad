#include <catch2/catch.hpp>

#include <random>

#include "support.hpp"

namespace berth::labels::test {

TEST_CASE("tcp, udp and tls labels are recognised and ignored", "[labels][malformed]") {
  SECTION("next to HTTP labels: an info note, HTTP still served") {
    Result result = build_one(container("app", {{"traefik.tcp.routers.db.rule", "HostSNI(`*`)"},
                                                {"traefik.udp.services.dns.loadbalancer.server."
                                                 "port",
                                                 "53"},
                                                {"traefik.tls.stores.default.defaultcertificate."
                                                 "certfile",
                                                 "/c"},
                                                {"traefik.http.routers.web.rule", "Host(`a`)"}}));
    INFO(dump(result));
    CHECK(result.configuration.http.routers.contains("web"));
    for (const char* family : {"traefik.tcp.*", "traefik.udp.*", "traefik.tls.*"}) {
      auto found = diagnostics_with(result, family);
      REQUIRE(found.size() == 1);
      CHECK(found[0].severity == config::Severity::info);
      CHECK(found[0].resource == config::ResourceKind::container);
    }
  }
  SECTION("TCP labels only: no HTTP router or service") {
    Result result = build_one(container("db", {{"traefik.tcp.routers.db.rule", "HostSNI(`*`)"}}));
    CHECK(result.configuration.http.routers.empty());
    CHECK(result.configuration.http.services.empty());
    CHECK_FALSE(decision(result, "db")->routed);
    CHECK(decision(result, "db")->reason.find("HTTP only") != std::string::npos);
  }
}

TEST_CASE("unknown keys are reported where they belong", "[labels][malformed]") {
  struct Case {
    const char* key;
    const char* reported;  // what the diagnostic names
    config::ResourceKind resource;
    const char* name;
  };
  const std::vector<Case> cases = {
      {"traefik.http.routers.web.rules", "traefik.http.routers.web.rules",
       config::ResourceKind::router, "web"},
      {"traefik.http.servicez.x.loadbalancer.server.port", "traefik.http.servicez",
       config::ResourceKind::container, "app"},
      {"traefik.docker.nework", "traefik.docker.nework", config::ResourceKind::container, "app"},
      {"traefik.unknown", "traefik.unknown", config::ResourceKind::container, "app"},
  };
  for (const auto& c : cases) {
    SECTION(c.key) {
      Result result = build_one(container("app", {{c.key, "1"}}));
      INFO(dump(result));
      auto found = diagnostics_with(result, std::string("unknown label key ") + c.reported);
      REQUIRE(found.size() == 1);
      CHECK(found[0].resource == c.resource);
      CHECK(found[0].name == c.name);
      CHECK(result.configuration.http.services.contains("app"));
    }
  }
}

TEST_CASE("malformed values never crash and name the label", "[labels][malformed]") {
  const std::string huge(1 << 20, 'x');
  struct Case {
    const char* what;
    std::string key;
    std::string value;
    bool router_kept;
  };
  const std::vector<Case> cases = {
      {"empty rule takes the default rule", "traefik.http.routers.app.rule", "", true},
      {"empty priority", "traefik.http.routers.app.priority", "", false},
      {"empty bool", "traefik.http.routers.app.tls", "", false},
      {"empty entrypoints", "traefik.http.routers.app.entrypoints", "", true},
      {"huge rule", "traefik.http.routers.app.rule", huge, true},
      {"huge priority", "traefik.http.routers.app.priority", huge, false},
      {"unicode rule", "traefik.http.routers.app.rule", "Host(`bücher.example`)", true},
      {"unicode in the key", "traefik.http.routers.app.rüle", "x", false},
      {"invalid UTF-8", "traefik.http.routers.app.rule", std::string("Host(`\xff\xfe`)"), true},
      {"number for a list", "traefik.http.routers.app.middlewares", "42", true},
      {"list for a number", "traefik.http.routers.app.priority", "1,2", false},
      {"trailing dot", "traefik.http.routers.app.", "x", true},
      {"double dot", "traefik.http.routers..rule", "x", true},
      {"huge array index", "traefik.http.routers.app.tls.domains[99999999999].main", "a", true},
      {"bad array index", "traefik.http.routers.app.tls.domains[x].main", "a", false},
      {"value on a resource", "traefik.http.routers.app", "Host(`a`)", false},
      {"value on the group", "traefik.http.routers", "x", true},
      {"value on http", "traefik.http", "x", true},
      {"NUL byte", "traefik.http.routers.app.rule", std::string("Host(`a\0b`)", 11), true},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      Result result = build_one(container("app", {{c.key, c.value}}));
      INFO(dump(result));
      CHECK(result.configuration.http.routers.contains("app") == c.router_kept);
      if (!c.router_kept) {
        REQUIRE_FALSE(result.diagnostics.empty());
        for (const auto& d : result.diagnostics) CHECK(d.message.size() < 2000);
      }
    }
  }
}

TEST_CASE("10,000 labels", "[labels][malformed]") {
  LabelMap labels;
  for (int i = 0; i < 2500; ++i) {
    std::string r = "traefik.http.routers.r" + std::to_string(i);
    labels[r + ".rule"] = "Host(`h" + std::to_string(i) + ".example`)";
    labels[r + ".priority"] = std::to_string(i);
    labels[r + ".middlewares"] = "m" + std::to_string(i);
    labels["traefik.http.middlewares.m" + std::to_string(i) + ".addprefix.prefix"] =
        "/" + std::to_string(i);
  }
  REQUIRE(labels.size() == 10000);
  Result result = build_one(container("app", labels));
  CHECK(result.diagnostics.empty());
  CHECK(result.configuration.http.routers.size() == 2500);
  CHECK(result.configuration.http.middlewares.size() == 2500);
  CHECK(result.configuration.http.routers.at("r1234").priority == 1234);
  CHECK(result.configuration.http.routers.at("r1234").service == "app");
}

TEST_CASE("random label soup never crashes", "[labels][malformed]") {
  const std::vector<std::string> pieces = {"traefik",
                                           "http",
                                           "routers",
                                           "services",
                                           "middlewares",
                                           "loadbalancer",
                                           "server",
                                           "port",
                                           "url",
                                           "rule",
                                           "tls",
                                           "domains[0]",
                                           "sticky",
                                           "cookie",
                                           "headers",
                                           "customrequestheaders",
                                           "X-A",
                                           "addprefix",
                                           "ratelimit",
                                           "sourcecriterion",
                                           "ipstrategy",
                                           "enable",
                                           "docker",
                                           "network",
                                           "",
                                           "@",
                                           "a",
                                           "B",
                                           "[1]",
                                           "healthcheck",
                                           "interval",
                                           "weight",
                                           "tcp"};
  const std::vector<std::string> values = {"",
                                           "true",
                                           "false",
                                           "80",
                                           "-1",
                                           "abc",
                                           "1s",
                                           "a,b",
                                           "Host(`x`)",
                                           "http://h:1",
                                           "99999999999999999999"};
  std::mt19937 random(12345);
  auto pick = [&](const auto& list) { return list[random() % list.size()]; };
  for (int round = 0; round < 300; ++round) {
    std::vector<ContainerInfo> containers;
    for (int n = 0; n < 3; ++n) {
      LabelMap labels;
      for (int l = 0; l < 12; ++l) {
        std::string key = "traefik";
        auto depth = 1 + random() % 7;
        for (unsigned d = 0; d < depth; ++d) key += "." + pick(pieces);
        labels[key] = pick(values);
      }
      containers.push_back(
          container("c" + std::to_string(n), labels, "10.0.0." + std::to_string(n + 1)));
    }
    Result result = build(containers);
    CHECK(result.containers.size() == 3);
  }
}

}  // namespace berth::labels::test
