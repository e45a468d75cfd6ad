#include <catch2/catch.hpp>

#include <functional>
#include <thread>
#include <variant>

#include "berth/runtime/snapshot.hpp"

using namespace berth;
using namespace std::chrono_literals;

TEST_CASE("healthCheck defaults are Traefik's") {
  const auto resolved = runtime::resolve_health_check(config::ServerHealthCheck{});
  REQUIRE(std::holds_alternative<runtime::ActiveCheck>(resolved));
  const auto& check = std::get<runtime::ActiveCheck>(resolved);
  CHECK(check.interval == 30s);
  CHECK(check.unhealthy_interval == 30s);
  CHECK(check.timeout == 5s);
  CHECK(check.method == "GET");
  CHECK(check.follow_redirects);
  CHECK(check.status == 0);

  config::ServerHealthCheck configured;
  configured.interval = 2s;
  configured.method = "head";
  configured.follow_redirects = false;
  const auto custom = std::get<runtime::ActiveCheck>(runtime::resolve_health_check(configured));
  CHECK(custom.unhealthy_interval == 2s);  // unhealthyInterval defaults to interval
  CHECK(custom.method == "HEAD");
  CHECK_FALSE(custom.follow_redirects);

  const auto passive = runtime::resolve_passive_health_check(config::PassiveHealthCheck{});
  REQUIRE(std::holds_alternative<runtime::PassivePolicy>(passive));
  CHECK(std::get<runtime::PassivePolicy>(passive).max_failed_attempts == 1);
  CHECK(std::get<runtime::PassivePolicy>(passive).failure_window == 10s);
}

TEST_CASE("bad healthCheck values are each a clear error on the service") {
  struct Case {
    const char* what;
    std::function<void(config::ServerHealthCheck&)> set;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"negative interval", [](auto& c) { c.interval = -1s; },
       "healthCheck.interval must be positive (got -1s)"},
      {"zero interval", [](auto& c) { c.interval = 0s; },
       "healthCheck.interval must be positive (got 0s)"},
      {"negative unhealthyInterval", [](auto& c) { c.unhealthy_interval = -5s; },
       "healthCheck.unhealthyInterval must be positive (got -5s)"},
      {"zero timeout", [](auto& c) { c.timeout = 0s; },
       "healthCheck.timeout must be positive (got 0s)"},
      {"status too low", [](auto& c) { c.status = 42; },
       "healthCheck.status 42 is not an HTTP status (100-599)"},
      {"status too high", [](auto& c) { c.status = 600; },
       "healthCheck.status 600 is not an HTTP status (100-599)"},
      {"port out of range", [](auto& c) { c.port = 70000; },
       "healthCheck.port 70000 is out of range (1-65535)"},
      {"negative port", [](auto& c) { c.port = -1; },
       "healthCheck.port -1 is out of range (1-65535)"},
      {"scheme", [](auto& c) { c.scheme = "ftp"; },
       "healthCheck.scheme \"ftp\" is not supported (only http and https)"},
      {"grpc mode", [](auto& c) { c.mode = "grpc"; },
       "healthCheck.mode \"grpc\" is not supported (only http)"},
      {"method", [](auto& c) { c.method = "GE T"; },
       "healthCheck.method \"GE T\" is not an HTTP method"},
      {"path with a space", [](auto& c) { c.path = "/a b"; },
       "healthCheck.path \"/a b\" is not a path"},
      {"header name", [](auto& c) { c.headers["X Bad"] = "1"; },
       "healthCheck.headers: \"X Bad\" is not a header name"},
      {"header value", [](auto& c) { c.headers["X-Ok"] = "a\r\nb"; },
       "healthCheck.headers.X-Ok: the value has a line break"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      config::ServerHealthCheck check;
      c.set(check);
      const auto resolved = runtime::resolve_health_check(check);
      REQUIRE(std::holds_alternative<std::string>(resolved));
      CHECK(std::get<std::string>(resolved) == c.message);

      // The snapshot build drops the service with that message, so the API shows it.
      config::LoadBalancer lb;
      lb.servers.push_back({"http://127.0.0.1:1", 1, false});
      lb.health_check = check;
      config::Configuration configuration;
      configuration.http.services["svc@test"] = config::Service{lb};
      const auto build = runtime::build_snapshot(configuration, {});
      REQUIRE(build.errors.size() == 1);
      CHECK(build.errors[0].name == "svc@test");
      CHECK(build.errors[0].message == c.message);
    }
  }
}

TEST_CASE("bad passiveHealthCheck values are each a clear error") {
  struct Case {
    std::optional<std::int64_t> attempts;
    std::optional<config::Duration> window;
    const char* message;
  };
  const std::vector<Case> cases = {
      {0, std::nullopt, "passiveHealthCheck.maxFailedAttempts must be at least 1 (got 0)"},
      {-3, std::nullopt, "passiveHealthCheck.maxFailedAttempts must be at least 1 (got -3)"},
      {std::nullopt, 0s, "passiveHealthCheck.failureWindow must be positive (got 0s)"},
      {std::nullopt, -1s, "passiveHealthCheck.failureWindow must be positive (got -1s)"},
  };
  for (const auto& c : cases) {
    const auto resolved = runtime::resolve_passive_health_check({c.window, c.attempts});
    REQUIRE(std::holds_alternative<std::string>(resolved));
    CHECK(std::get<std::string>(resolved) == c.message);
  }
}

TEST_CASE("passive failures take a server out for the window once they reach the limit") {
  runtime::ServerHealth health;
  const runtime::PassivePolicy policy{3, 200ms};
  CHECK_FALSE(health.record_failure(policy));
  CHECK_FALSE(health.record_failure(policy));
  health.record_success();  // not consecutive any more
  CHECK_FALSE(health.record_failure(policy));
  CHECK_FALSE(health.record_failure(policy));
  CHECK(health.available());
  CHECK(health.record_failure(policy));
  CHECK_FALSE(health.available());
  // A request that was in flight fails too: the server is already out, the window stays.
  CHECK_FALSE(health.record_failure(policy));
  std::this_thread::sleep_for(250ms);
  CHECK(health.available());
  // The active check's verdict still applies.
  health.up = false;
  CHECK_FALSE(health.available());
}

TEST_CASE("passive failures older than the window do not add up") {
  runtime::ServerHealth health;
  const runtime::PassivePolicy policy{2, 50ms};
  CHECK_FALSE(health.record_failure(policy));
  std::this_thread::sleep_for(80ms);
  CHECK_FALSE(health.record_failure(policy));  // a new series
  CHECK(health.available());
  CHECK(health.record_failure(policy));
  CHECK_FALSE(health.available());
}
