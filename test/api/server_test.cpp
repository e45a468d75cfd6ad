#include "berth/api/server.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#include "fixture.hpp"
#include "support/http_client.hpp"

namespace berth::api {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;

ServerOptions test_options() {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.ping = true;
  options.metrics = true;
  options.heartbeat = 200ms;
  options.version = VersionInfo{"1.2.3", "test", std::chrono::system_clock::time_point{}};
  options.metrics_source = [] {
    return std::vector<MetricFamily>{
        {"berth_requests_total", "Requests.", "counter", {{{{"code", "200"}}, 7}}}};
  };
  return options;
}

/// A raw connection that reads whatever arrives, for the endless /api/events response.
class StreamClient {
 public:
  explicit StreamClient(std::uint16_t port) {
    socket_.connect(tcp::endpoint{net::ip::address_v4::loopback(), port});
  }
  /// Errors show up as a failed wait_for().
  void send(std::string_view text) {
    boost::system::error_code ignored;
    net::write(socket_, net::buffer(text), ignored);
  }

  /// Reads until `needle` appears after `from`; returns its position, or npos on timeout or EOF.
  std::size_t wait_for(std::string_view needle, std::size_t from = 0,
                       std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const std::size_t found = received_.find(needle, from);
      if (found != std::string::npos) return found;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::string::npos;
      bool done = false;
      boost::system::error_code error;
      std::size_t length = 0;
      socket_.async_read_some(net::buffer(buffer_),
                              [&](boost::system::error_code e, std::size_t n) {
                                error = e;
                                length = n;
                                done = true;
                              });
      context_.restart();
      context_.run_for(deadline - now);
      if (!done) {
        socket_.cancel();
        context_.restart();
        context_.run();
        return std::string::npos;
      }
      if (error) return std::string::npos;
      received_.append(buffer_.data(), length);
    }
  }
  const std::string& received() const { return received_; }

 private:
  net::io_context context_;
  tcp::socket socket_{context_};
  std::array<char, 4096> buffer_{};
  std::string received_;
};

struct Running {
  explicit Running(ServerOptions options = test_options()) : server(std::move(options)) {
    server.update(std::make_shared<const State>(test::fixture_state()));
    server.start();
  }
  ~Running() { server.stop(); }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  berth::test::HttpClient client() { return berth::test::HttpClient{"127.0.0.1", server.port()}; }
  Server server;
};

TEST_CASE("server answers the API over keep-alive connections") {
  Running running;
  REQUIRE(running.server.port() != 0);
  auto client = running.client();

  auto routers = client.get("/api/http/routers");
  REQUIRE(routers);
  CHECK(routers->status == 200);
  CHECK(routers->header("Content-Type") == "application/json");
  CHECK(routers->header("X-Next-Page") == "1");
  CHECK(json::parse(routers->body).size() == 4);
  CHECK(routers->keep_alive);
  CHECK(client.connected());

  auto one = client.get("/api/http/services/whoami%40docker");
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(json::parse(one->body)["serverStatus"]["http://172.18.0.4:80"] == "DRAINING");

  auto missing = client.get("/api/http/routers/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(json::parse(missing->body) == json{{"message", "router not found: nope"}});

  auto version = client.get("/api/version");
  REQUIRE(version);
  CHECK(json::parse(version->body)["Version"] == "1.2.3");
}

TEST_CASE("server answers HEAD without a body and refuses other methods") {
  Running running;
  auto client = running.client();
  auto get = client.get("/api/overview");
  REQUIRE(get);
  auto head = client.request({"HEAD", "/api/overview", {}, {}});
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());
  CHECK(head->header("Content-Length") == std::to_string(get->body.size()));

  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    CAPTURE(method);
    auto response = client.request({method, "/api/overview", {}, "{}"});
    REQUIRE(response);
    CHECK(response->status == 405);
    CHECK(response->header("Allow") == "GET, HEAD");
  }
  auto unknown = client.get("/nothing/here");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
}

TEST_CASE("server redirects / to the dashboard and serves it") {
  Running running;
  auto client = running.client();
  for (const char* target : {"/", "/dashboard"}) {
    auto root = client.get(target);
    REQUIRE(root);
    CHECK(root->status == 302);
    CHECK(root->header("Location") == "/dashboard/");
  }
  auto page = client.get("/dashboard/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->header("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->body.find("<title>berth dashboard</title>") != std::string::npos);
  CHECK(page->body.find("EventSource") != std::string::npos);
}

TEST_CASE("server honours the API base path") {
  ServerOptions options = test_options();
  options.base_path = "/traefik/";
  Running running{options};
  auto client = running.client();
  auto overview = client.get("/traefik/api/overview");
  REQUIRE(overview);
  CHECK(overview->status == 200);
  auto outside = client.get("/api/overview");
  REQUIRE(outside);
  CHECK(outside->status == 404);
  auto root = client.get("/traefik/");
  REQUIRE(root);
  CHECK(root->status == 302);
  CHECK(root->header("Location") == "/traefik/dashboard/");
  auto ping = client.get("/ping");  // /ping is not under the base path
  REQUIRE(ping);
  CHECK(ping->status == 200);
}

TEST_CASE("ping answers 200 until shutdown begins, then 503") {
  Running running;
  const std::string address = "127.0.0.1:" + std::to_string(running.server.port());
  auto client = running.client();
  auto ok = client.get("/ping");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body == "OK");
  CHECK(probe_ping(address, 2s) == 0);
  CHECK(probe_ping(":" + std::to_string(running.server.port()), 2s) == 0);

  running.server.begin_shutdown();
  auto closing = client.get("/ping");
  REQUIRE(closing);
  CHECK(closing->status == 503);
  CHECK(closing->body == "Service Unavailable");
  CHECK(probe_ping(address, 2s) == 1);
}

TEST_CASE("probe_ping fails on closed ports and bad addresses") {
  std::uint16_t port = 0;
  {
    Running running;
    port = running.server.port();
  }
  CHECK(probe_ping("127.0.0.1:" + std::to_string(port), 1s) == 1);
  CHECK(probe_ping("nonsense", 1s) == 1);
  CHECK(probe_ping("127.0.0.1:99999", 1s) == 1);
}

TEST_CASE("ping and metrics are off unless enabled") {
  ServerOptions options = test_options();
  options.ping = false;
  options.metrics = false;
  Running running{options};
  auto client = running.client();
  for (const char* target : {"/ping", "/metrics"}) {
    auto response = client.get(target);
    REQUIRE(response);
    CHECK(response->status == 404);
  }
}

TEST_CASE("metrics are served in the Prometheus text format") {
  Running running;
  auto client = running.client();
  auto metrics = client.get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics->body.find("# TYPE traefik_config_reloads_total counter\n"
                           "traefik_config_reloads_total 3\n") != std::string::npos);
  CHECK(metrics->body.find("berth_http_routers{status=\"enabled\"} 2\n") != std::string::npos);
  CHECK(metrics->body.find("traefik_service_server_up{service=\"whoami@docker\",url=\"http://"
                           "172.18.0.3:80\"} 1\n") != std::string::npos);
  CHECK(metrics->body.find("berth_requests_total{code=\"200\"} 7\n") != std::string::npos);
}

TEST_CASE("server rejects oversized request headers") {
  Running running;
  auto client = running.client();
  auto response =
      client.request({"GET", "/api/overview", {{"X-Big", std::string(20000, 'x')}}, {}});
  REQUIRE(response);
  CHECK(response->status == 431);
}

TEST_CASE("events stream the overview, then what each update changed, and heartbeats") {
  Running running;
  StreamClient stream{running.server.port()};
  stream.send("GET /api/events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n");
  REQUIRE(stream.wait_for("\r\n\r\n") != std::string::npos);
  CHECK(stream.received().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(stream.received().find("Content-Type: text/event-stream") != std::string::npos);

  const std::size_t overview = stream.wait_for("event: overview\ndata: ");
  REQUIRE(overview != std::string::npos);
  const std::size_t overview_end = stream.wait_for("\n\n", overview);
  REQUIRE(overview_end != std::string::npos);
  const std::size_t data = overview + std::string_view{"event: overview\ndata: "}.size();
  CHECK(json::parse(
            stream.received().substr(data, overview_end - data))["http"]["routers"]["total"] == 4);

  State next = test::fixture_state();
  next.configuration.http.routers["new@docker"] = config::Router{};
  next.server_status["http://172.18.0.3:80"] = "DOWN";
  running.server.update(std::make_shared<const State>(next));

  const std::size_t update = stream.wait_for("event: update\ndata: ", overview_end);
  REQUIRE(update != std::string::npos);
  const std::size_t update_end = stream.wait_for("\n\n", update);
  REQUIRE(update_end != std::string::npos);
  const std::size_t update_data = update + std::string_view{"event: update\ndata: "}.size();
  const json changes = json::parse(stream.received().substr(update_data, update_end - update_data));
  CHECK(changes["routers"]["added"] == json::array({"new@docker"}));
  CHECK(changes["servers"] == json::parse(R"([{"url":"http://172.18.0.3:80","status":"DOWN"}])"));
  CHECK(changes["time"].get<std::string>().back() == 'Z');
  CHECK(stream.received().find("id: 1\n") != std::string::npos);

  // An update that changes nothing sends nothing; the heartbeat keeps the stream alive.
  running.server.update(std::make_shared<const State>(next));
  CHECK(stream.wait_for(": heartbeat\n\n", update_end) != std::string::npos);
  CHECK(stream.received().find("event: update", update_end) == std::string::npos);

  // The API sees the new State too.
  auto client = running.client();
  auto routers = client.get("/api/http/routers");
  REQUIRE(routers);
  CHECK(json::parse(routers->body).size() == 5);
}

TEST_CASE("stopping the server closes open event streams and the listener") {
  auto running = std::make_unique<Running>();
  const std::uint16_t port = running->server.port();
  StreamClient stream{port};
  stream.send("GET /api/events HTTP/1.1\r\nHost: test\r\n\r\n");
  REQUIRE(stream.wait_for("event: overview") != std::string::npos);
  running->server.stop();
  // The stream ends (EOF) at once instead of hanging until the read times out.
  const auto start = std::chrono::steady_clock::now();
  CHECK(stream.wait_for("never sent", 0, 3s) == std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  running.reset();
  auto after = berth::test::http_get("127.0.0.1", port, "/ping", 1s);
  CHECK_FALSE(after);
}

TEST_CASE("connections and event clients beyond the limits are turned away") {
  ServerOptions options = test_options();
  options.max_connections = 1;
  options.max_event_clients = 1;
  Running running{options};
  StreamClient events{running.server.port()};
  events.send("GET /api/events HTTP/1.1\r\nHost: test\r\n\r\n");
  REQUIRE(events.wait_for("event: overview") != std::string::npos);

  // The event client no longer counts as an HTTP connection: one kept-alive client fits.
  auto first = running.client();
  auto ok = first.get("/api/overview");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  REQUIRE(first.connected());
  // A second connection while the first is open is closed at once.
  CHECK_FALSE(berth::test::http_get("127.0.0.1", running.server.port(), "/api/overview", 2s));
  first.close();

  // The server notices the close asynchronously: retry until the slot is free.
  std::string head;
  for (int attempt = 0; attempt < 50 && head.empty(); ++attempt) {
    StreamClient second{running.server.port()};
    second.send("GET /api/events HTTP/1.1\r\nHost: test\r\n\r\n");
    if (second.wait_for("\r\n\r\n", 0, 1s) != std::string::npos) {
      head = second.received();
    } else {
      std::this_thread::sleep_for(50ms);
    }
  }
  CHECK(head.rfind("HTTP/1.1 503 ", 0) == 0);
}

TEST_CASE("server refuses addresses it cannot use") {
  for (const char* address : {"nonsense", "127.0.0.1:99999", "example.invalid:80", ":80/udp"}) {
    CAPTURE(address);
    ServerOptions options = test_options();
    options.address = address;
    CHECK_THROWS_AS(Server{options}, std::system_error);
  }
  Running running;
  ServerOptions taken = test_options();
  taken.address = "127.0.0.1:" + std::to_string(running.server.port());
  CHECK_THROWS_AS(Server{taken}, std::system_error);
}

}  // namespace
}  // namespace berth::api
