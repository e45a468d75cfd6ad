// Middleware chains run by the proxy, and failover to another server on connect errors, against
// in-process backends.

#include <catch2/catch.hpp>

#include <zlib.h>

#include <map>
#include <mutex>
#include <thread>

#include "../runtime/test_config.hpp"
#include "backend.hpp"
#include "berth/middleware/chain.hpp"
#include "berth/proxy/server.hpp"
#include "proxy_fixture.hpp"

using namespace berth;
using namespace std::chrono_literals;
using proxy::test::Backend;
using proxy::test::Client;
using proxy::test::Proxy;
using proxy::test::Request;
using proxy::test::Response;
using runtime::test::router;
namespace http = proxy::test::http;

namespace {

config::Service service_of(const std::vector<std::string>& urls) {
  std::vector<std::pair<std::string, std::int64_t>> servers;
  for (const auto& url : urls) servers.emplace_back(url, 1);
  return runtime::test::load_balancer(servers);
}

/// Router `Host(app)` with `middlewares` to the servers.
config::Configuration with_middlewares(const std::vector<std::string>& urls,
                                       std::map<std::string, config::MiddlewareKind> middlewares) {
  config::Configuration c;
  c.http.services["svc@test"] = service_of(urls);
  std::vector<std::string> names;
  for (auto& [name, kind] : middlewares) {
    names.push_back(name);
    c.http.middlewares[name + "@test"] = config::Middleware{std::move(kind)};
  }
  c.http.routers["app@test"] = router("Host(`app`)", "svc", 0, {}, names);
  return c;
}

std::string gunzip(const std::string& data) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK);
  std::string out;
  std::array<char, 4096> chunk{};
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - stream.avail_out);
  }
  inflateEnd(&stream);
  CHECK(status == Z_STREAM_END);
  return out;
}

Request post(std::string target, std::string body) {
  Request request{http::verb::post, target, 11};
  request.set(http::field::host, "app");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

}  // namespace

TEST_CASE("stripPrefix and addPrefix rewrite the path sent upstream", "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::StripPrefix strip;
  strip.prefixes = {"/api"};
  proxy.publish(
      with_middlewares({a.url()}, {{"1-strip", strip}, {"2-add", config::AddPrefix{"/v1"}}}));
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/api/users?x=1")).result() == http::status::ok);
  CHECK(a.last_request().target() == "/v1/users?x=1");
  CHECK(a.last_request()["X-Forwarded-Prefix"] == "/api");
}

TEST_CASE("redirectScheme answers without contacting the backend", "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::RedirectScheme redirect;
  redirect.scheme = "https";
  redirect.permanent = true;
  proxy.publish(with_middlewares({a.url()}, {{"redirect", redirect}}));
  Client client(proxy.port());
  const auto response = client.request(proxy::test::get("/x?y=1"));
  CHECK(response.result() == http::status::moved_permanently);
  CHECK(response[http::field::location] == "https://app/x?y=1");
  CHECK(a.requests() == 0);
}

TEST_CASE("headers edits requests and responses and answers CORS preflights",
          "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::Headers headers;
  headers.custom_request_headers = {{"X-Req", "one"}};
  headers.custom_response_headers = {{"X-Resp", "two"}, {"X-Backend", ""}};
  headers.access_control_allow_methods = {"GET", "PUT"};
  headers.access_control_allow_origin_list = {"https://site"};
  headers.access_control_max_age = 60;
  proxy.publish(with_middlewares({a.url()}, {{"headers", headers}}));
  Client client(proxy.port());

  const auto response = client.request(proxy::test::get("/"));
  CHECK(response.result() == http::status::ok);
  CHECK(response["X-Resp"] == "two");
  CHECK(response.find("X-Backend") == response.end());
  CHECK(a.last_request()["X-Req"] == "one");

  Request preflight{http::verb::options, "/", 11};
  preflight.set(http::field::host, "app");
  preflight.set(http::field::origin, "https://site");
  preflight.set(http::field::access_control_request_method, "PUT");
  const auto cors = client.request(preflight);
  CHECK(cors.result() == http::status::ok);
  CHECK(cors[http::field::access_control_allow_origin] == "https://site");
  CHECK(cors[http::field::access_control_allow_methods] == "GET,PUT");
  CHECK(a.requests() == 1);
}

TEST_CASE("basicAuth answers 401 without credentials and forwards with them",
          "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::BasicAuth auth;
  // "secret", as htpasswd -m writes it.
  auth.users = {"ann:$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0"};
  auth.header_field = "X-User";
  proxy.publish(with_middlewares({a.url()}, {{"auth", auth}}));
  Client client(proxy.port());
  const auto denied = client.request(proxy::test::get("/"));
  CHECK(denied.result() == http::status::unauthorized);
  CHECK(denied[http::field::www_authenticate].starts_with("Basic realm="));
  CHECK(a.requests() == 0);

  auto request = proxy::test::get("/");
  request.set(http::field::authorization, "Basic YW5uOnNlY3JldA==");  // ann:secret
  CHECK(client.request(request).result() == http::status::ok);
  CHECK(a.last_request()["X-User"] == "ann");
}

TEST_CASE("ipAllowList rejects clients outside its ranges", "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::IpAllowList outside;
  outside.source_range = {"10.0.0.0/8"};
  config::IpAllowList inside;
  inside.source_range = {"127.0.0.1/32"};
  auto c = with_middlewares({a.url()}, {{"outside", outside}});
  c.http.middlewares["inside@test"] = config::Middleware{inside};
  c.http.routers["local@test"] = router("Host(`local`)", "svc", 0, {}, {"inside"});
  proxy.publish(c);
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).result() == http::status::forbidden);
  // A forged X-Forwarded-For from an untrusted client is dropped before the check.
  auto forged = proxy::test::get("/");
  forged.set("X-Forwarded-For", "10.1.2.3");
  CHECK(client.request(forged).result() == http::status::forbidden);
  CHECK(client.request(proxy::test::get("/", "local")).result() == http::status::ok);
  CHECK(a.requests() == 1);
}

TEST_CASE("rateLimit answers 429 past its burst", "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::RateLimit limit;
  limit.average = 1;
  limit.period = 10s;
  limit.burst = 2;
  proxy.publish(with_middlewares({a.url()}, {{"limit", limit}}));
  Client client(proxy.port());
  std::map<unsigned, int> statuses;
  for (int i = 0; i < 5; ++i) statuses[client.request(proxy::test::get("/")).result_int()]++;
  CHECK(statuses[200] == 2);
  CHECK(statuses[429] == 3);
  CHECK(a.requests() == 2);
}

TEST_CASE("compress gzips fixed-length and chunked bodies", "[proxy][middleware]") {
  const std::string text(5000, 'x');
  Backend a("A", [&](const Request& request, Response& response, std::size_t) {
    response.set(http::field::content_type, "text/plain");
    response.body() = text;
    if (request.target() == "/chunked") response.chunked(true);
    return true;
  });
  Proxy proxy;
  proxy.publish(with_middlewares({a.url()}, {{"gzip", config::Compress{}}}));
  Client client(proxy.port());
  for (const char* target : {"/fixed", "/chunked"}) {
    auto request = proxy::test::get(target);
    request.set(http::field::accept_encoding, "gzip, deflate");
    const auto response = client.request(request);
    CHECK(response.result() == http::status::ok);
    CHECK(response[http::field::content_encoding] == "gzip");
    CHECK(response[http::field::vary] == "Accept-Encoding");
    CHECK(response.body().size() < text.size());
    CHECK(gunzip(response.body()) == text);
  }
  // Without Accept-Encoding the body passes as it is.
  const auto plain = client.request(proxy::test::get("/fixed"));
  CHECK(plain.find(http::field::content_encoding) == plain.end());
  CHECK(plain.body() == text);
}

TEST_CASE("retry re-sends to another server when one fails before answering",
          "[proxy][middleware]") {
  Backend broken("broken", [](const Request&, Response&, std::size_t) { return false; });
  Backend good("good");
  config::Retry retry;
  retry.attempts = 3;
  retry.initial_interval = 1ms;
  SECTION("with retry every request succeeds") {
    Proxy proxy;
    proxy.publish(with_middlewares({broken.url(), good.url()}, {{"retry", retry}}));
    Client client(proxy.port());
    for (int i = 0; i < 10; ++i) {
      const auto response = client.request(proxy::test::get("/"));
      CHECK(response.result() == http::status::ok);
      CHECK(response.body() == "good");
    }
    CHECK(broken.requests() >= 5);
  }
  SECTION("without it the failures reach the client") {
    Proxy proxy;
    proxy.publish(with_middlewares({broken.url(), good.url()}, {}));
    Client client(proxy.port());
    int bad_gateways = 0;
    for (int i = 0; i < 10; ++i) {
      bad_gateways += client.request(proxy::test::get("/")).result() == http::status::bad_gateway;
    }
    CHECK(bad_gateways >= 5);
  }
}

TEST_CASE("forwardAuth lets allowed requests through and relays denials", "[proxy][middleware]") {
  Backend auth("auth", [](const Request& request, Response& response, std::size_t) {
    if (request["X-Token"] == "good") {
      response.set("X-Auth-User", "ann");
    } else {
      response.result(http::status::forbidden);
      response.body() = "denied";
    }
    return true;
  });
  Backend a("A");
  Proxy proxy;
  config::ForwardAuth forward;
  forward.address = auth.url() + "/check";
  forward.auth_response_headers = {"X-Auth-User"};
  proxy.publish(with_middlewares({a.url()}, {{"auth", forward}}));
  Client client(proxy.port());

  auto allowed = proxy::test::get("/page");
  allowed.set("X-Token", "good");
  const auto ok = client.request(allowed);
  CHECK(ok.result() == http::status::ok);
  CHECK(ok.body() == "A");
  CHECK(a.last_request()["X-Auth-User"] == "ann");
  CHECK(auth.last_request().target() == "/check");
  CHECK(auth.last_request()["X-Forwarded-Uri"] == "/page");

  auto denied = proxy::test::get("/page");
  denied.set("X-Token", "bad");
  const auto no = client.request(denied);
  CHECK(no.result() == http::status::forbidden);
  CHECK(no.body() == "denied");
  CHECK(a.requests() == 1);
}

TEST_CASE("forwardAuth answers 500 when the auth server is unreachable", "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::ForwardAuth forward;
  forward.address = "http://127.0.0.1:" + std::to_string(proxy::test::closed_port()) + "/";
  proxy.publish(with_middlewares({a.url()}, {{"auth", forward}}));
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).result() == http::status::internal_server_error);
  CHECK(a.requests() == 0);
}

TEST_CASE("buffering reads bodies whole and answers 413 past its limit", "[proxy][middleware]") {
  Backend a("A", [](const Request& request, Response& response, std::size_t) {
    response.body() = request.body();
    return true;
  });
  Proxy proxy;
  config::Buffering buffering;
  buffering.max_request_body_bytes = 100;
  proxy.publish(with_middlewares({a.url()}, {{"buffer", buffering}}));
  {
    Client client(proxy.port());
    const auto response = client.request(post("/", "hello"));
    CHECK(response.result() == http::status::ok);
    CHECK(response.body() == "hello");
    // A chunked body goes upstream with its length.
    auto chunked = post("/", std::string(80, 'c'));
    chunked.chunked(true);
    CHECK(client.request(chunked).body() == std::string(80, 'c'));
    CHECK(a.last_request()[http::field::content_length] == "80");
  }
  {
    Client client(proxy.port());
    CHECK(client.request(post("/", std::string(500, 'x'))).result() ==
          http::status::payload_too_large);
  }
  {
    Client client(proxy.port());
    auto chunked = post("/", std::string(500, 'x'));
    chunked.chunked(true);
    CHECK(client.request(chunked).result() == http::status::payload_too_large);
  }
  CHECK(a.requests() == 2);
}

TEST_CASE("circuitBreaker opens on the proxy's own 502s", "[proxy][middleware]") {
  Proxy proxy;
  config::CircuitBreaker breaker;
  breaker.expression = "NetworkErrorRatio() > 0.5";
  breaker.check_period = 20ms;
  const std::string dead = "http://127.0.0.1:" + std::to_string(proxy::test::closed_port());
  proxy.publish(with_middlewares({dead}, {{"breaker", breaker}}));
  Client client(proxy.port());
  std::map<unsigned, int> statuses;
  for (int i = 0; i < 20 && statuses[503] == 0; ++i) {
    statuses[client.request(proxy::test::get("/")).result_int()]++;
    std::this_thread::sleep_for(25ms);
  }
  CHECK(statuses[502] >= 1);
  CHECK(statuses[503] >= 1);
}

TEST_CASE("a router with a broken middleware is disabled while the others serve",
          "[proxy][middleware]") {
  Backend a("A");
  Proxy proxy;
  config::BasicAuth broken;
  broken.users = {"bob:$apr1$salt"};
  auto c = with_middlewares({a.url()}, {});
  c.http.middlewares["broken@test"] = config::Middleware{broken};
  c.http.routers["bad@test"] = router("Host(`bad`)", "svc", 0, {}, {"broken"});
  c.http.routers["missing@test"] = router("Host(`missing`)", "svc", 0, {}, {"nothing"});
  const auto errors = proxy.publish_reporting(c);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].starts_with("bad@test: "));
  CHECK(errors[0].find("broken@test") != std::string::npos);
  CHECK(errors[1].starts_with("missing@test: "));
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).result() == http::status::ok);
  CHECK(client.request(proxy::test::get("/", "bad")).result() == http::status::not_found);
  CHECK(client.request(proxy::test::get("/", "missing")).result() == http::status::not_found);
}

TEST_CASE("a server that stops listening loses no request: connect errors fail over",
          "[proxy][failover]") {
  Backend a("A");
  Backend b("B");
  Proxy proxy;
  config::Configuration c;
  c.http.services["svc@test"] = service_of({a.url(), b.url()});
  c.http.routers["app@test"] = router("Host(`app`)", "svc");
  proxy.publish(c);
  // Pooled connections to both on both workers.
  {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(std::make_unique<Client>(proxy.port()));
      for (int j = 0; j < 4; ++j) clients.back()->request(proxy::test::get("/"));
    }
  }
  CHECK(a.requests() > 0);

  // As after SIGTERM: the listener and the open connections go, and nobody tells berth.
  a.shut_down();
  std::map<std::string, int> bodies;
  std::map<unsigned, int> statuses;
  for (int i = 0; i < 200; ++i) {
    // New connections spread over both workers; every method fails over, since nothing was sent.
    Client client(proxy.port());
    const auto response = client.request(i % 2 == 0 ? proxy::test::get("/")
                                                    : post("/", "payload " + std::to_string(i)));
    statuses[response.result_int()]++;
    bodies[response.body()]++;
  }
  CHECK(statuses[200] == 200);
  CHECK(bodies["B"] == 200);
}

TEST_CASE("a server that drops a fresh connection as it shuts down loses no request",
          "[proxy][failover]") {
  // As a backend in its first milliseconds after SIGTERM, before berth sees the stop: the
  // connection it had just accepted closes unanswered, then its listener is gone.
  std::once_flag dying;
  Backend* self = nullptr;
  Backend a("A", [&](const Request&, Response&, std::size_t) {
    std::call_once(dying, [&] { self->shut_down(); });
    return false;
  });
  self = &a;
  Backend b("B");
  Proxy proxy;
  config::Configuration c;
  c.http.services["svc@test"] = service_of({a.url(), b.url()});
  c.http.routers["app@test"] = router("Host(`app`)", "svc");
  proxy.publish(c);
  Client client(proxy.port());
  for (int i = 0; i < 10; ++i) {
    const auto response = client.request(proxy::test::get("/"));
    CHECK(response.result() == http::status::ok);
    CHECK(response.body() == "B");
  }
  CHECK(a.requests() == 1);
}

TEST_CASE("failover keeps trying every server before answering 502", "[proxy][failover]") {
  Proxy proxy;
  config::Configuration c;
  const auto dead = [] { return "http://127.0.0.1:" + std::to_string(proxy::test::closed_port()); };
  Backend b("B");
  c.http.services["svc@test"] = service_of({dead(), dead(), b.url()});
  c.http.services["gone@test"] = service_of({dead(), dead()});
  c.http.routers["app@test"] = router("Host(`app`)", "svc");
  c.http.routers["gone@test"] = router("Host(`gone`)", "gone");
  proxy.publish(c);
  Client client(proxy.port());
  for (int i = 0; i < 9; ++i) CHECK(client.request(post("/", "x")).body() == "B");
  CHECK(client.request(proxy::test::get("/", "gone")).result() == http::status::bad_gateway);
}
