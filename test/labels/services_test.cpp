#include <catch2/catch.hpp>

#include <chrono>

#include <type_traits>

#include "support.hpp"

namespace berth::labels::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* lb = "traefik.http.services.svc.loadbalancer.";

LabelMap service_labels(std::initializer_list<std::pair<const std::string, std::string>> keys) {
  LabelMap labels;
  for (const auto& [key, value] : keys) labels[lb + key] = value;
  return labels;
}

template <class Set>
config::LoadBalancer with_server(Set set,
                                 config::Server server = {"http://172.18.0.2:80", {}, false}) {
  config::LoadBalancer expected;
  if constexpr (!std::is_null_pointer_v<Set>) set(expected);
  expected.servers = {std::move(server)};
  return expected;
}

struct ServiceCase {
  const char* what;
  LabelMap labels;
  config::LoadBalancer expected;
};

}  // namespace

TEST_CASE("service label keys decode into the load balancer", "[labels][services]") {
  config::Cookie named;
  named.name = "sid";
  config::Cookie full;
  full.name = "sid";
  full.secure = true;
  full.http_only = true;
  full.same_site = "strict";
  full.max_age = 3600;
  full.path = "/app";
  full.domain = "example.com";

  config::ServerHealthCheck health;
  health.path = "/health";
  health.method = "HEAD";
  health.status = 204;
  health.port = 8081;
  health.scheme = "https";
  health.hostname = "app.internal";
  health.interval = 10s;
  health.unhealthy_interval = 2s;
  health.timeout = 3s;
  health.mode = "grpc";
  health.follow_redirects = false;
  health.headers = {{"X-Check", "1"}, {"Authorization", "Bearer t"}};

  config::PassiveHealthCheck passive;
  passive.max_failed_attempts = 3;
  passive.failure_window = 30s;

  const std::vector<ServiceCase> cases = {
      {"server.port", service_labels({{"server.port", "8080"}}),
       with_server(nullptr, {"http://172.18.0.2:8080", {}, false})},
      {"server.scheme", service_labels({{"server.scheme", "https"}}),
       with_server(nullptr, {"https://172.18.0.2:80", {}, false})},
      {"server.url replaces the address", service_labels({{"server.url", "http://backend:9000"}}),
       with_server(nullptr, {"http://backend:9000", {}, false})},
      {"server.weight", service_labels({{"server.weight", "5"}}),
       with_server(nullptr, {"http://172.18.0.2:80", 5, false})},
      {"server.preservepath", service_labels({{"server.preservepath", "true"}}),
       with_server(nullptr, {"http://172.18.0.2:80", {}, true})},
      {"passhostheader", service_labels({{"passhostheader", "false"}}),
       with_server([&](config::LoadBalancer& x) { x.pass_host_header = false; })},
      {"serverstransport", service_labels({{"serverstransport", "insecure@file"}}),
       with_server([&](config::LoadBalancer& x) { x.servers_transport = "insecure@file"; })},
      {"responseforwarding.flushinterval (duration)",
       service_labels({{"responseforwarding.flushinterval", "250ms"}}),
       with_server([&](config::LoadBalancer& x) {
         x.response_forwarding = config::ResponseForwarding{250ms};
       })},
      {"responseforwarding.flushinterval (seconds)",
       service_labels({{"responseforwarding.flushinterval", "2"}}),
       with_server([&](config::LoadBalancer& x) {
         x.response_forwarding = config::ResponseForwarding{2s};
       })},
      {"strategy", service_labels({{"strategy", "p2c"}}),
       with_server([&](config::LoadBalancer& x) { x.strategy = "p2c"; })},
      {"sticky.cookie=true", service_labels({{"sticky.cookie", "true"}}),
       with_server([&](config::LoadBalancer& x) { x.sticky = config::Sticky{config::Cookie{}}; })},
      {"sticky=true alone is sticky too (berth)", service_labels({{"sticky", "true"}}),
       with_server([&](config::LoadBalancer& x) { x.sticky = config::Sticky{config::Cookie{}}; })},
      {"a cookie sub-key makes it sticky", service_labels({{"sticky.cookie.name", "sid"}}),
       with_server([&](config::LoadBalancer& x) { x.sticky = config::Sticky{named}; })},
      {"every cookie sub-key",
       service_labels({{"sticky.cookie.name", "sid"},
                       {"sticky.cookie.secure", "true"},
                       {"sticky.cookie.httponly", "true"},
                       {"sticky.cookie.samesite", "strict"},
                       {"sticky.cookie.maxage", "3600"},
                       {"sticky.cookie.path", "/app"},
                       {"sticky.cookie.domain", "example.com"}}),
       with_server([&](config::LoadBalancer& x) { x.sticky = config::Sticky{full}; })},
      {"sticky=false wins over sub-keys",
       service_labels({{"sticky", "false"}, {"sticky.cookie.name", "sid"}}), with_server(nullptr)},
      {"sticky.cookie=false", service_labels({{"sticky.cookie", "false"}}), with_server(nullptr)},
      {"healthcheck.*",
       service_labels({{"healthcheck.path", "/health"},
                       {"healthcheck.method", "HEAD"},
                       {"healthcheck.status", "204"},
                       {"healthcheck.port", "8081"},
                       {"healthcheck.scheme", "https"},
                       {"healthcheck.hostname", "app.internal"},
                       {"healthcheck.interval", "10s"},
                       {"healthcheck.unhealthyinterval", "2s"},
                       {"healthcheck.timeout", "3"},
                       {"healthcheck.mode", "grpc"},
                       {"healthcheck.followredirects", "false"},
                       {"healthcheck.headers.X-Check", "1"},
                       {"healthcheck.headers.Authorization", "Bearer t"}}),
       with_server([&](config::LoadBalancer& x) { x.health_check = health; })},
      {"passivehealthcheck.*",
       service_labels({{"passivehealthcheck.maxfailedattempts", "3"},
                       {"passivehealthcheck.failurewindow", "30s"}}),
       with_server([&](config::LoadBalancer& x) { x.passive_health_check = passive; })},
      {"case-insensitive keys",
       LabelMap{{"TRAEFIK.http.Services.svc.LoadBalancer.Server.Port", "8080"},
                {"traefik.http.services.svc.loadbalancer.PassHostHeader", "FALSE"}},
       with_server([&](config::LoadBalancer& x) { x.pass_host_header = false; },
                   {"http://172.18.0.2:8080", {}, false})},
  };

  for (const auto& c : cases) {
    SECTION(c.what) {
      Result result = build_one(container("app", c.labels));
      INFO(dump(result));
      const config::LoadBalancer* found = load_balancer(result, "svc");
      REQUIRE(found != nullptr);
      CHECK(*found == c.expected);
      // The default router goes to the only service.
      REQUIRE(result.configuration.http.routers.contains("app"));
      CHECK(result.configuration.http.routers.at("app").service == "svc");
    }
  }
}

TEST_CASE("a bad service value drops only that service", "[labels][services]") {
  struct Case {
    const char* key;
    const char* value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"server.port", "http", "expected an integer"},
      {"server.port", "0", "from 1 to 65535"},
      {"server.port", "70000", "from 1 to 65535"},
      {"server.weight", "-x", "expected an integer"},
      {"server.weight", "-1", "cannot be negative"},
      {"server.url", "not a url", "expected an absolute URL"},
      {"passhostheader", "sometimes", "expected true or false"},
      {"healthcheck.interval", "soon", "expected a duration"},
      {"sticky.cookie.maxage", "1h", "expected an integer"},
      {"healthcheck.headers", "X-A", "not a value"},
      {"servers[0].url", "http://x", "unknown label key"},
      {"nosuchoption", "1", "unknown label key"},
  };
  for (const auto& c : cases) {
    SECTION(std::string(c.key) + "=" + c.value) {
      LabelMap labels = {{"traefik.http.services.good.loadbalancer.server.port", "80"},
                         {"traefik.http.services.bad.loadbalancer.server.port", "81"},
                         {"traefik.http.routers.r.rule", "Host(`a`)"},
                         {"traefik.http.routers.r.service", "good"}};
      labels[std::string("traefik.http.services.bad.loadbalancer.") + c.key] = c.value;
      Result result = build_one(container("app", labels));
      INFO(dump(result));
      CHECK(load_balancer(result, "good") != nullptr);
      CHECK(load_balancer(result, "bad") == nullptr);
      CHECK(result.configuration.http.routers.contains("r"));
      auto found = diagnostics_with(result, c.message);
      REQUIRE(found.size() == 1);
      CHECK(found[0].resource == config::ResourceKind::service);
      CHECK(found[0].name == "bad");
    }
  }
}

TEST_CASE("server.url cannot be combined with server.port or server.scheme", "[labels][services]") {
  for (const char* other : {"server.port", "server.scheme"}) {
    SECTION(other) {
      Result result = build_one(container(
          "app", service_labels({{"server.url", "http://x:1"},
                                 {other, std::string(other) == "server.port" ? "80" : "https"}})));
      CHECK(load_balancer(result, "svc") == nullptr);
      CHECK(has_diagnostic(result, "cannot be combined"));
    }
  }
}

TEST_CASE("services need loadbalancer labels", "[labels][services]") {
  Result result =
      build_one(container("app", {{"traefik.http.services.svc.weighted.services[0].name", "x"}}));
  INFO(dump(result));
  CHECK(load_balancer(result, "svc") == nullptr);
  CHECK(has_diagnostic(result, "unknown label key traefik.http.services.svc.weighted"));
}

TEST_CASE("header names in maps keep their case", "[labels][services]") {
  Result result =
      build_one(container("app", service_labels({{"healthcheck.headers.X-Request-ID", "abc"}})));
  const auto* found = load_balancer(result, "svc");
  REQUIRE(found != nullptr);
  REQUIRE(found->health_check);
  CHECK(found->health_check->headers == config::StringMap{{"X-Request-ID", "abc"}});
}

}  // namespace berth::labels::test
