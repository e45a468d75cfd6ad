#include <catch2/catch.hpp>

#include <thread>

#include "../runtime/test_config.hpp"
#include "backend.hpp"
#include "berth/proxy/server.hpp"
#include "proxy_fixture.hpp"

using namespace berth;
using namespace std::chrono_literals;
using proxy::test::Backend;
using proxy::test::Client;
using proxy::test::Proxy;
using proxy::test::Response;
namespace http = proxy::test::http;

namespace {

/// One request on a new connection.
Response get(Proxy& proxy) {
  Client client(proxy.port());
  return client.request(proxy::test::get("/"));
}

config::Configuration service(const std::vector<std::string>& urls,
                              std::optional<config::PassiveHealthCheck> passive) {
  std::vector<std::pair<std::string, std::int64_t>> servers;
  for (const auto& url : urls) servers.emplace_back(url, 1);
  config::Service lb = runtime::test::load_balancer(servers);
  std::get<config::LoadBalancer>(lb.kind).passive_health_check = passive;
  config::Configuration c;
  c.http.services["svc@test"] = std::move(lb);
  c.http.routers["app@test"] = runtime::test::router("Host(`app`)", "svc");
  return c;
}

std::string refusing_url() {
  return "http://127.0.0.1:" + std::to_string(proxy::test::closed_port());
}

}  // namespace

TEST_CASE("passive: a server that refuses is out after maxFailedAttempts, back after the window") {
  Proxy proxy;
  const std::string url = refusing_url();
  proxy.publish(service({url}, config::PassiveHealthCheck{1s, 2}));
  CHECK(get(proxy).result() == http::status::bad_gateway);
  CHECK(get(proxy).result() == http::status::bad_gateway);
  // Out: the service has no server left, as Traefik answers then.
  const Response out = get(proxy);
  CHECK(out.result() == http::status::service_unavailable);
  CHECK(out.body() == "no available server\n");
  CHECK_FALSE(proxy.health().find(url)->available());

  std::this_thread::sleep_for(1100ms);
  CHECK(proxy.health().find(url)->available());
  // Tried again; one more failure (a new series) is not yet enough to take it out.
  CHECK(get(proxy).result() == http::status::bad_gateway);
  CHECK(proxy.health().find(url)->available());
}

TEST_CASE("passive: requests fail over while a refusing server is counted and taken out") {
  Backend good("G");
  Proxy proxy;
  const std::string bad = refusing_url();
  proxy.publish(service({bad, good.url()}, config::PassiveHealthCheck{1s, 3}));
  for (int i = 0; i < 6; ++i) {
    const Response response = get(proxy);
    CHECK(response.result() == http::status::ok);
    CHECK(response.body() == "G");
  }
  // Round robin picked the refusing server 3 times out of 6: it is out now.
  CHECK_FALSE(proxy.health().find(bad)->available());
  CHECK(proxy.health().find(good.url())->available());
  std::this_thread::sleep_for(1100ms);
  CHECK(proxy.health().find(bad)->available());
}

TEST_CASE("passive: an answered request resets the count of consecutive failures") {
  std::atomic<bool> refuse{false};
  Backend flaky("F", [&](const proxy::test::Request&, Response&, std::size_t) {
    return !refuse.load();  // false closes the connection without an answer
  });
  Proxy proxy;
  proxy.publish(service({flaky.url()}, config::PassiveHealthCheck{10s, 2}));
  refuse = true;
  CHECK(get(proxy).result() == http::status::bad_gateway);
  refuse = false;
  CHECK(get(proxy).result() == http::status::ok);
  refuse = true;
  CHECK(get(proxy).result() == http::status::bad_gateway);
  CHECK(proxy.health().find(flaky.url())->available());
  CHECK(get(proxy).result() == http::status::bad_gateway);
  CHECK_FALSE(proxy.health().find(flaky.url())->available());
}

TEST_CASE("without passiveHealthCheck failures never take a server out") {
  Proxy proxy;
  const std::string url = refusing_url();
  proxy.publish(service({url}, std::nullopt));
  for (int i = 0; i < 4; ++i) CHECK(get(proxy).result() == http::status::bad_gateway);
  CHECK(proxy.health().find(url)->available());
}

TEST_CASE("a service whose servers are all down (active check) answers 503") {
  Backend a("A");
  Proxy proxy;
  proxy.publish(service({a.url()}, std::nullopt));
  CHECK(get(proxy).result() == http::status::ok);
  proxy.health().set_up(a.url(), false);
  const Response response = get(proxy);
  CHECK(response.result() == http::status::service_unavailable);
  CHECK(response.body() == "no available server\n");
  CHECK(a.requests() == 1);
  proxy.health().set_up(a.url(), true);
  CHECK(get(proxy).result() == http::status::ok);
}
