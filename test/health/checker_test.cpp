#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "../proxy/backend.hpp"
#include "berth/health/checker.hpp"
#include "berth/tls/store.hpp"
#include "support/eventually.hpp"

using namespace berth;
using namespace std::chrono_literals;
using proxy::test::Backend;
using proxy::test::Request;
using proxy::test::Response;
using proxy::test::TlsBackend;
namespace http = proxy::test::http;
namespace net = proxy::test::net;
namespace beast = proxy::test::beast;
using tcp = net::ip::tcp;

namespace {

/// Checks run every few ms here: look as often.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 3s) {
  return test::eventually(condition, limit, 5ms);
}

config::Configuration checked(const std::vector<std::string>& urls, config::ServerHealthCheck check,
                              const std::string& service = "svc@test") {
  config::LoadBalancer lb;
  for (const auto& url : urls) lb.servers.push_back({url, 1, false});
  lb.health_check = std::move(check);
  config::Configuration configuration;
  configuration.http.services[service] = config::Service{lb};
  return configuration;
}

config::ServerHealthCheck every(std::chrono::nanoseconds interval, std::string path = "/health") {
  config::ServerHealthCheck check;
  check.path = std::move(path);
  check.interval = interval;
  check.timeout = 1s;
  return check;
}

/// A backend whose answer a test can switch.
struct Switchable {
  std::atomic<unsigned> status{200};
  Backend backend{"B", [this](const Request&, Response& response, std::size_t) {
                    response.result(status.load());
                    if (status == 204) response.body().clear();  // a 204 has no body
                    return true;
                  }};
};

struct Fixture {
  runtime::HealthRegistry registry;
  std::atomic<int> changes{0};
  health::Checker checker{registry, [this] { ++changes; }};

  bool up(const std::string& url) {
    auto state = registry.find(url);
    return state && state->up.load();
  }
  bool down(const std::string& url) {
    auto state = registry.find(url);
    return state && !state->up.load();
  }
};

}  // namespace

TEST_CASE("a server goes down when its check fails and up when it passes again") {
  Switchable server;
  Fixture f;
  const std::string url = server.backend.url();
  f.checker.update(checked({url}, every(30ms)));
  REQUIRE(eventually([&] { return server.backend.requests() >= 2; }));
  CHECK(f.up(url));
  CHECK(f.changes == 0);
  CHECK(server.backend.last_request().target() == "/health");
  CHECK(server.backend.last_request().method() == http::verb::get);

  server.status = 503;
  REQUIRE(eventually([&] { return f.down(url); }));
  CHECK(eventually([&] { return f.changes == 1; }));

  server.status = 204;
  REQUIRE(eventually([&] { return f.up(url); }));
  CHECK(eventually([&] { return f.changes == 2; }));
}

TEST_CASE("a new server is probed at once, not after its interval") {
  Switchable server;
  server.status = 500;
  Fixture f;
  const std::string url = server.backend.url();
  const auto start = std::chrono::steady_clock::now();
  f.checker.update(checked({url}, every(1h)));
  REQUIRE(eventually([&] { return f.down(url); }, 2s));
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(server.backend.requests() == 1);
}

TEST_CASE("an update with the same servers keeps their state and schedule; gone ones stop") {
  Switchable a;
  Switchable b;
  a.status = 500;
  Fixture f;
  const std::string url_a = a.backend.url();
  const std::string url_b = b.backend.url();
  f.checker.update(checked({url_a, url_b}, every(1h)));
  REQUIRE(eventually([&] { return f.down(url_a) && b.backend.requests() == 1; }));

  // Same servers, same check (another service object): nothing is probed again, a stays down.
  f.checker.update(checked({url_a, url_b}, every(1h)));
  std::this_thread::sleep_for(150ms);
  CHECK(a.backend.requests() == 1);
  CHECK(b.backend.requests() == 1);
  CHECK(f.down(url_a));

  // b is gone and a's check changed: a is probed at once with the new check, b never again.
  auto changed = every(40ms, "/ready");
  f.checker.update(checked({url_a}, changed));
  REQUIRE(eventually([&] { return a.backend.requests() >= 3; }));
  CHECK(a.backend.last_request().target() == "/ready");
  CHECK(b.backend.requests() == 1);
  CHECK(f.down(url_a));

  // No check any more: the check no longer holds a down, and nothing is probed.
  f.checker.update(config::Configuration{});
  REQUIRE(eventually([&] { return f.up(url_a); }));
  const int seen = a.backend.requests();
  std::this_thread::sleep_for(150ms);
  CHECK(a.backend.requests() == seen);
}

TEST_CASE("port, hostname, headers, method, scheme and path reach the probed server") {
  Switchable server;  // where the server URL points
  Switchable probed;  // where the check's port points
  Fixture f;
  auto check = every(1h, "status?full=1");
  check.port = probed.backend.port();
  check.hostname = "health.internal";
  check.method = "post";
  check.scheme = "http";
  check.headers["X-Check"] = "yes";
  check.headers["Host"] = "ignored";
  f.checker.update(checked({server.backend.url() + "/app/index"}, check));
  REQUIRE(eventually([&] { return probed.backend.requests() == 1; }));
  const Request request = probed.backend.last_request();
  CHECK(request.method() == http::verb::post);
  CHECK(request.target() == "/app/status?full=1");  // relative to the server URL's path
  CHECK(request[http::field::host] == "health.internal");
  CHECK(request["X-Check"] == "yes");
  CHECK(server.backend.requests() == 0);
}

TEST_CASE("status: only the configured code is healthy") {
  Switchable server;
  Fixture f;
  const std::string url = server.backend.url();
  auto check = every(30ms);
  check.status = 204;
  f.checker.update(checked({url}, check));
  REQUIRE(eventually([&] { return f.down(url); }));  // 200 is not 204
  server.status = 204;
  REQUIRE(eventually([&] { return f.up(url); }));
}

TEST_CASE("a probe without an answer within the timeout marks the server down") {
  Backend server("S", [](const Request&, Response&, std::size_t) {
    std::this_thread::sleep_for(1s);
    return true;
  });
  Fixture f;
  auto check = every(1h);
  check.timeout = 50ms;
  const auto start = std::chrono::steady_clock::now();
  f.checker.update(checked({server.url()}, check));
  REQUIRE(eventually([&] { return f.down(server.url()); }));
  CHECK(std::chrono::steady_clock::now() - start < 800ms);
}

TEST_CASE("a refused connection marks the server down") {
  Fixture f;
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy::test::closed_port());
  f.checker.update(checked({url}, every(1h)));
  REQUIRE(eventually([&] { return f.down(url); }));
}

TEST_CASE("redirects are followed by default; with followRedirects=false a 3xx is healthy") {
  std::atomic<unsigned> target_status{500};
  Backend server("R", [&](const Request& request, Response& response, std::size_t) {
    if (request.target() == "/health") {
      response.result(http::status::found);
      response.set(http::field::location, "/final");
    } else {
      response.result(target_status.load());
    }
    return true;
  });
  Fixture f;
  const std::string url = server.url();

  SECTION("followed: the final answer decides") {
    f.checker.update(checked({url}, every(30ms)));
    REQUIRE(eventually([&] { return f.down(url); }));
    CHECK(server.last_request().target() == "/final");
    target_status = 200;
    REQUIRE(eventually([&] { return f.up(url); }));
  }
  SECTION("not followed: the redirect itself is a 3xx, so healthy") {
    auto check = every(30ms);
    check.follow_redirects = false;
    f.checker.update(checked({url}, check));
    REQUIRE(eventually([&] { return server.requests() >= 3; }));
    CHECK(f.up(url));
    CHECK(server.last_request().target() == "/health");
  }
}

TEST_CASE("services without a health check are not probed") {
  Switchable server;
  Fixture f;
  config::Configuration configuration = checked({server.backend.url()}, every(10ms));
  std::get<config::LoadBalancer>(configuration.http.services["svc@test"].kind).health_check.reset();
  f.checker.update(configuration);
  std::this_thread::sleep_for(100ms);
  CHECK(server.backend.requests() == 0);
}

TEST_CASE("servers taken out and let back by passive checks are reported too") {
  runtime::HealthRegistry registry;
  std::atomic<int> changes{0};
  health::CheckerOptions options;
  options.passive_scan = 10ms;
  health::Checker checker(
      registry, [&] { ++changes; }, options);
  auto state = registry.acquire("http://127.0.0.1:1");
  std::this_thread::sleep_for(50ms);
  CHECK(changes == 0);
  REQUIRE(state->record_failure(runtime::PassivePolicy{1, 500ms}));
  CHECK(eventually([&] { return changes == 1; }, 400ms));
  CHECK(eventually([&] { return changes == 2; }));
  CHECK(state->available());
}

TEST_CASE("scheme=https probes over TLS and verifies the server's certificate") {
  const auto ca = tls::generate_certificate({"health test CA", {}, {}, true});
  REQUIRE(ca);
  const auto leaf = tls::generate_certificate({"server", {}, {"127.0.0.1"}}, &*ca);
  REQUIRE(leaf);
  TlsBackend server("secure", leaf->cert, leaf->key);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto check = every(1h);
  check.scheme = "https";

  SECTION("trusted: up") {
    runtime::HealthRegistry registry;
    health::CheckerOptions options;
    options.root_cas = {ca->cert};
    health::Checker checker(registry, {}, options);
    checker.update(checked({url}, check));
    REQUIRE(eventually([&] { return server.requests() == 1; }));
    CHECK(eventually([&] { return registry.find(url)->up.load(); }));
  }
  SECTION("not trusted: down") {
    runtime::HealthRegistry registry;
    health::Checker checker(registry, {});
    checker.update(checked({url}, check));
    REQUIRE(eventually([&] {
      auto state = registry.find(url);
      return state && !state->up.load();
    }));
    CHECK(server.requests() == 0);
  }
}

TEST_CASE("a root CA that cannot be loaded is an error when the checker is made") {
  runtime::HealthRegistry registry;
  health::CheckerOptions options;
  options.root_cas = {"/nonexistent/ca.pem"};
  CHECK_THROWS_AS(health::Checker(registry, {}, options), std::invalid_argument);
}
