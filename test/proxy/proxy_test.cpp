#include <catch2/catch.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <fstream>
#include <future>
#include <map>
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
using proxy::test::Request;
using proxy::test::Response;
using runtime::test::router;
namespace http = proxy::test::http;
namespace net = proxy::test::net;
namespace beast = proxy::test::beast;
using tcp = proxy::test::tcp;

namespace {

config::Service service_of(const std::vector<std::pair<const Backend*, std::int64_t>>& backends,
                           bool sticky = false) {
  std::vector<std::pair<std::string, std::int64_t>> servers;
  for (const auto& [backend, weight] : backends) servers.emplace_back(backend->url(), weight);
  return runtime::test::load_balancer(servers, sticky);
}

/// One router `Host(app)` to one service.
config::Configuration simple(config::Service service) {
  config::Configuration c;
  c.http.services["svc@test"] = std::move(service);
  c.http.routers["app@test"] = router("Host(`app`)", "svc");
  return c;
}

std::string cookie_pair(const Response& response) {
  const auto value = std::string(response[http::field::set_cookie]);
  return value.substr(0, value.find(';'));
}

}  // namespace

TEST_CASE("requests are forwarded and upstream connections are kept alive") {
  Backend a("A");
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  for (int i = 0; i < 5; ++i) {
    const auto response = client.request(proxy::test::get("/hello"));
    CHECK(response.result() == http::status::ok);
    CHECK(response.body() == "A");
  }
  CHECK(a.requests() == 5);
  CHECK(a.connections() == 1);
  CHECK(a.last_request().target() == "/hello");
}

TEST_CASE("weighted round robin spreads 400 requests 1:3 and never picks weight 0") {
  Backend a("A");
  Backend b("B");
  Backend zero("Z");
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}, {&b, 3}, {&zero, 0}})));
  Client client(proxy.port());
  std::map<std::string, int> counts;
  for (int i = 0; i < 400; ++i) counts[client.request(proxy::test::get("/")).body()]++;
  CHECK(counts["A"] == 100);
  CHECK(counts["B"] == 300);
  CHECK(counts.count("Z") == 0);
  CHECK(zero.requests() == 0);
}

TEST_CASE("sticky cookies pin a backend - a cookie for a gone backend gets a new cookie") {
  Backend a("A");
  Backend b("B");
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}, {&b, 1}}, true)));
  Client client(proxy.port());
  const auto first = client.request(proxy::test::get("/"));
  const std::string cookie = cookie_pair(first);
  CHECK(cookie == runtime::default_cookie_name("svc@test") + "=" +
                      runtime::sticky_value(first.body() == "A" ? a.url() : b.url()));
  for (int i = 0; i < 10; ++i) {
    auto request = proxy::test::get("/");
    request.set(http::field::cookie, "other=1; " + cookie);
    const auto response = client.request(request);
    CHECK(response.body() == first.body());
    CHECK(response.find(http::field::set_cookie) == response.end());
  }
  // The pinned backend leaves the configuration.
  const Backend& remaining = first.body() == "A" ? b : a;
  proxy.publish(simple(service_of({{&remaining, 1}}, true)));
  auto request = proxy::test::get("/");
  request.set(http::field::cookie, cookie);
  const auto moved = client.request(request);
  CHECK(moved.body() == remaining.name());
  CHECK(cookie_pair(moved) ==
        runtime::default_cookie_name("svc@test") + "=" + runtime::sticky_value(remaining.url()));
}

TEST_CASE("routers match by host index and priority - absolute-form uses its authority") {
  Backend a("A");
  Backend b("B");
  Backend c("C");
  Proxy proxy;
  config::Configuration conf;
  conf.http.services["a@test"] = service_of({{&a, 1}});
  conf.http.services["b@test"] = service_of({{&b, 1}});
  conf.http.services["c@test"] = service_of({{&c, 1}});
  conf.http.routers["host@test"] = router("Host(`app`)", "a");
  conf.http.routers["api@test"] = router("Host(`app`) && PathPrefix(`/api`)", "b");
  conf.http.routers["fallback@test"] = router("PathPrefix(`/`)", "c", 1);
  proxy.publish(conf);
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/", "app")).body() == "A");
  CHECK(client.request(proxy::test::get("/api/v1", "APP:80")).body() == "B");
  CHECK(client.request(proxy::test::get("/api", "other")).body() == "C");
  CHECK(client.request(proxy::test::get("http://app/api/x?y=1", "other")).body() == "B");
  CHECK(b.last_request().target() == "/api/x?y=1");
  CHECK(b.last_request()[http::field::host] == "app");
}

TEST_CASE("no route, no server, refused, and timed out upstreams answer like Traefik") {
  Backend slow("S", [](const Request&, Response&, std::size_t) {
    std::this_thread::sleep_for(1500ms);
    return false;
  });
  auto options = proxy::test::test_server_options();
  options.transport.response_header_timeout = 300ms;
  Proxy proxy(options);
  config::Configuration conf;
  conf.http.services["empty@test"] = runtime::test::load_balancer({});
  conf.http.services["refused@test"] = runtime::test::load_balancer(
      {{"http://127.0.0.1:" + std::to_string(proxy::test::closed_port()), 1}});
  conf.http.services["slow@test"] = service_of({{&slow, 1}});
  conf.http.routers["empty@test"] = router("Host(`empty`)", "empty");
  conf.http.routers["refused@test"] = router("Host(`refused`)", "refused");
  conf.http.routers["slow@test"] = router("Host(`slow`)", "slow");
  proxy.publish(conf);

  struct Case {
    std::string host;
    http::status status;
    std::string body;
  };
  const auto c = GENERATE(Case{"nowhere", http::status::not_found, "404 page not found\n"},
                          Case{"empty", http::status::service_unavailable, "no available server\n"},
                          Case{"refused", http::status::bad_gateway, "Bad Gateway"},
                          Case{"slow", http::status::gateway_timeout, "Gateway Timeout"});
  Client client(proxy.port());
  const auto response = client.request(proxy::test::get("/", c.host));
  CHECK(response.result() == c.status);
  CHECK(response.body() == c.body);
  CHECK(response[http::field::content_type] == "text/plain; charset=utf-8");
  // The connection stays usable after a proxy error.
  CHECK(client.request(proxy::test::get("/", "nowhere")).result() == http::status::not_found);
}

TEST_CASE("pipelined requests are answered in order") {
  Backend a("A", [](const Request& request, Response& response, std::size_t) {
    response.body() = std::string(request.target());
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  client.write_raw(
      "GET /1 HTTP/1.1\r\nHost: app\r\n\r\n"
      "GET /2 HTTP/1.1\r\nHost: app\r\n\r\n"
      "GET /3 HTTP/1.1\r\nHost: app\r\n\r\n");
  CHECK(client.read().body() == "/1");
  CHECK(client.read().body() == "/2");
  CHECK(client.read().body() == "/3");
}

TEST_CASE("HTTP/1.0 clients: close by default, keep-alive on request, no chunking") {
  Backend a("A", [](const Request& request, Response& response, std::size_t) {
    if (request.target() == "/chunked") response.chunked(true);
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  {
    Client client(proxy.port());
    client.write_raw("GET /chunked HTTP/1.0\r\nHost: app\r\n\r\n");
    const std::string raw = client.read_all();
    CHECK(raw.find("200 OK") != std::string::npos);
    CHECK(raw.find("Transfer-Encoding") == std::string::npos);
    CHECK(raw.substr(raw.size() - 1) == "A");
  }
  {
    Client client(proxy.port());
    client.write_raw("GET / HTTP/1.0\r\nHost: app\r\nConnection: keep-alive\r\n\r\n");
    const auto first = client.read();
    CHECK(first.body() == "A");
    CHECK(first[http::field::connection] == "keep-alive");
    client.write_raw("GET / HTTP/1.0\r\n\r\n");
    // No Host header is fine in HTTP/1.0; no router matches it.
    CHECK(client.read().result() == http::status::not_found);
    CHECK(client.closed());
  }
}

TEST_CASE("chunked request and response bodies are streamed through") {
  Backend a("A", [](const Request& request, Response& response, std::size_t) {
    response.body() = request.body();
    response.set("X-Request-Chunked", request.chunked() ? "yes" : "no");
    response.chunked(true);
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  client.write_raw(
      "POST /echo HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const auto response = client.read();
  CHECK(response.body() == "hello world");
  CHECK(response.chunked());
  CHECK(response["X-Request-Chunked"] == "yes");
  // The connection is still in step for the next request.
  CHECK(client.request(proxy::test::get("/")).result() == http::status::ok);
}

TEST_CASE("a 10 MB body is streamed both ways") {
  constexpr std::size_t size = 10 * 1024 * 1024;
  // Bytes that differ along the body, so that a piece sent twice, lost or out of order shows
  // (the proxy's sends to a client that reads slower than it writes are partial).
  std::string pattern(size, '\0');
  for (std::size_t i = 0; i < size; ++i) pattern[i] = static_cast<char>('a' + i % 251 % 26);
  Backend a("A", [&pattern](const Request& request, Response& response, std::size_t) {
    if (request.method() == http::verb::post) {
      response.body() = std::to_string(request.body().size());
    } else {
      response.body() = pattern;
    }
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  Request upload{http::verb::post, "/upload", 11};
  upload.set(http::field::host, "app");
  upload.body() = std::string(size, 'y');
  upload.prepare_payload();
  CHECK(client.request(upload).body() == std::to_string(size));
  const auto download = client.request(proxy::test::get("/download"));
  CHECK(download.body().size() == size);
  CHECK(download.body() == pattern);
}

namespace {

/// This process's resident memory, from /proc/self/status.
std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

/// Reads one message whose body is counted and dropped, 64 KiB at a time; returns the body size.
template <bool isRequest>
std::uint64_t read_discarding(tcp::socket& socket, beast::flat_buffer& buffer,
                              http::parser<isRequest, http::buffer_body>& parser) {
  parser.body_limit(boost::none);
  http::read_header(socket, buffer, parser);
  std::array<char, 64 * 1024> chunk{};
  std::uint64_t size = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::error_code ec;
    http::read(socket, buffer, parser, ec);
    if (ec && ec != http::error::need_buffer) throw beast::system_error(ec);
    size += chunk.size() - parser.get().body().size;
  }
  return size;
}

/// Writes `size` bytes of 'x' as the body that follows an already written header.
void write_body(tcp::socket& socket, std::uint64_t size) {
  const std::string chunk(64 * 1024, 'x');
  for (std::uint64_t left = size; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
    net::write(socket, net::buffer(chunk.data(), n));
    left -= n;
  }
}

}  // namespace

TEST_CASE("a 1 GiB body streams both ways through the proxy in bounded memory") {
  constexpr std::uint64_t size = std::uint64_t{1} << 30;
  // A backend that counts an upload without keeping it and sends a download it never holds whole.
  net::io_context backend_context;
  tcp::acceptor acceptor(backend_context, {net::ip::make_address("127.0.0.1"), 0});
  std::atomic<std::uint64_t> uploaded{0};
  std::thread backend([&] {
    tcp::socket socket(backend_context);
    acceptor.accept(socket);
    beast::flat_buffer buffer;
    http::request_parser<http::buffer_body> upload;
    uploaded = read_discarding(socket, buffer, upload);
    net::write(socket, net::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
    http::request_parser<http::buffer_body> download;
    read_discarding(socket, buffer, download);
    net::write(socket, net::buffer("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size) +
                                   "\r\n\r\n"));
    write_body(socket, size);
  });
  Proxy proxy;
  config::Configuration c;
  c.http.services["svc@test"] = runtime::test::load_balancer(
      {{"http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()), 1}});
  c.http.routers["app@test"] = router("Host(`app`)", "svc");
  proxy.publish(c);
  const std::size_t resident_before = resident_bytes();

  net::io_context client_context;
  tcp::socket client(client_context);
  client.connect({net::ip::make_address("127.0.0.1"), proxy.port()});
  net::write(client, net::buffer("POST /upload HTTP/1.1\r\nHost: app\r\nContent-Length: " +
                                 std::to_string(size) + "\r\n\r\n"));
  write_body(client, size);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> upload_answer;
  read_discarding(client, buffer, upload_answer);
  CHECK(upload_answer.get().result() == http::status::ok);
  CHECK(uploaded == size);

  net::write(client, net::buffer(std::string("GET /download HTTP/1.1\r\nHost: app\r\n\r\n")));
  http::response_parser<http::buffer_body> download;
  CHECK(read_discarding(client, buffer, download) == size);
  backend.join();
  // Client, proxy and backend share this process: none of them may have held the body.
  CHECK(resident_bytes() < resident_before + 64 * 1024 * 1024);
}

TEST_CASE("header size and count limits answer 431") {
  Backend a("A");
  auto options = proxy::test::test_server_options();
  options.max_header_bytes = 2048;
  options.max_header_count = 20;
  Proxy proxy(options);
  proxy.publish(simple(service_of({{&a, 1}})));
  {
    Client client(proxy.port());
    auto request = proxy::test::get("/");
    request.set("X-Big", std::string(4096, 'b'));
    CHECK(client.request(request).result() == http::status::request_header_fields_too_large);
  }
  {
    Client client(proxy.port());
    auto request = proxy::test::get("/");
    for (int i = 0; i < 30; ++i) request.insert("X-Many-" + std::to_string(i), "1");
    CHECK(client.request(request).result() == http::status::request_header_fields_too_large);
  }
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).result() == http::status::ok);
  CHECK(a.requests() == 1);
}

TEST_CASE("ambiguous framing answers 400 and unknown codings 501, never reaching the backend") {
  Backend a("A");
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  struct Case {
    std::string request;
    std::string status_line;
  };
  const auto c = GENERATE(
      Case{"POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
           "0\r\n\r\n",
           "HTTP/1.1 400 Bad Request"},
      Case{"POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
           "0\r\n\r\n",
           "HTTP/1.1 400 Bad Request"},
      Case{"POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
           "HTTP/1.1 400 Bad Request"},
      Case{"POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: gzip\r\n\r\nxxxx",
           "HTTP/1.1 501 Not Implemented"},
      Case{"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      Case{"BROKEN\r\n\r\n", "HTTP/1.1 400 Bad Request"});
  Client client(proxy.port());
  client.write_raw(c.request);
  const std::string raw = client.read_all();
  CHECK(raw.substr(0, c.status_line.size()) == c.status_line);
  CHECK(a.requests() == 0);
}

TEST_CASE("hop-by-hop headers are stripped both ways") {
  Backend a("A", [](const Request&, Response& response, std::size_t) {
    response.set(http::field::connection, "X-Resp-Hop");
    response.set("X-Resp-Hop", "1");
    response.set(http::field::keep_alive, "timeout=5");
    response.set("X-Resp-End", "1");
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  auto request = proxy::test::get("/");
  request.set(http::field::connection, "keep-alive, X-Hop");
  request.set("X-Hop", "1");
  request.set(http::field::keep_alive, "timeout=5");
  request.set(http::field::proxy_authorization, "Basic eDp5");
  request.set(http::field::te, "trailers");
  request.set("X-End", "1");
  const auto response = client.request(request);
  CHECK(response["X-Resp-End"] == "1");
  CHECK(response.find("X-Resp-Hop") == response.end());
  CHECK(response.find(http::field::keep_alive) == response.end());
  const auto seen = a.last_request();
  CHECK(seen["X-End"] == "1");
  for (std::string_view name : {"X-Hop", "Keep-Alive", "Proxy-Authorization", "TE", "Connection"}) {
    INFO(name);
    CHECK(seen.find(name) == seen.end());
  }
}

TEST_CASE("X-Forwarded-* and X-Real-Ip are set - passHostHeader=false sends the server's host") {
  Backend a("A");
  Proxy proxy;
  auto service = service_of({{&a, 1}});
  std::get<config::LoadBalancer>(service.kind).pass_host_header = false;
  config::Configuration conf = simple(service_of({{&a, 1}}));
  conf.http.services["nopass@test"] = service;
  conf.http.routers["nopass@test"] = router("Host(`nopass`)", "nopass");
  proxy.publish(conf);
  Client client(proxy.port());
  auto request = proxy::test::get("/", "app:8080");
  request.set("X-Forwarded-For", "6.6.6.6");
  request.set("X-Real-Ip", "6.6.6.6");
  CHECK(client.request(request).result() == http::status::ok);
  auto seen = a.last_request();
  CHECK(seen["X-Forwarded-For"] == "127.0.0.1");
  CHECK(seen["X-Real-Ip"] == "127.0.0.1");
  CHECK(seen["X-Forwarded-Host"] == "app:8080");
  CHECK(seen["X-Forwarded-Port"] == "8080");
  CHECK(seen["X-Forwarded-Proto"] == "http");
  CHECK(seen["X-Forwarded-Server"] == "berth-test");
  CHECK(seen[http::field::host] == "app:8080");

  CHECK(client.request(proxy::test::get("/", "nopass")).result() == http::status::ok);
  seen = a.last_request();
  CHECK(seen[http::field::host] == "127.0.0.1:" + std::to_string(a.port()));
  CHECK(seen["X-Forwarded-Host"] == "nopass");
}

TEST_CASE("a reused upstream connection closed by the backend is retried once for GET") {
  // The backend drops every connection on its second request without answering.
  Backend a("A", [](const Request&, Response&, std::size_t nth) { return nth != 2; });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).result() == http::status::ok);
  CHECK(client.request(proxy::test::get("/")).result() == http::status::ok);
  CHECK(a.connections() == 2);
  // A POST is not retried: its failure is reported.
  Request post{http::verb::post, "/", 11};
  post.set(http::field::host, "app");
  post.body() = "x";
  post.prepare_payload();
  CHECK(client.request(post).result() == http::status::bad_gateway);
}

TEST_CASE("IPv6 entry points are served") {
  Backend a("A");
  proxy::ServerOptions options;
  options.entry_points.push_back({"web", "[::1]:0"});
  options.workers = 1;
  Proxy proxy(options);
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port(), "::1");
  auto response = client.request(proxy::test::get("/"));
  CHECK(response.body() == "A");
  CHECK(a.last_request()["X-Forwarded-For"] == "::1");
}

namespace {

using WebSocket = beast::websocket::stream<proxy::test::tcp::socket>;

std::unique_ptr<WebSocket> open_websocket(net::io_context& ioc, std::uint16_t port) {
  auto ws = std::make_unique<WebSocket>(ioc);
  ws->next_layer().connect({net::ip::make_address("127.0.0.1"), port});
  ws->handshake("app", "/ws");
  return ws;
}

std::string echo(WebSocket& ws, const std::string& text) {
  ws.write(net::buffer(text));
  beast::flat_buffer buffer;
  ws.read(buffer);
  return beast::buffers_to_string(buffer.data());
}

}  // namespace

TEST_CASE("WebSocket handshakes are forwarded and the tunnel echoes") {
  Backend a("A");
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  net::io_context ioc;
  auto ws = open_websocket(ioc, proxy.port());
  CHECK(echo(*ws, "hello") == "hello");
  CHECK(echo(*ws, std::string(100000, 'w')).size() == 100000);
  ws->close(beast::websocket::close_code::normal);
  CHECK(a.last_request()["X-Forwarded-Proto"] == "ws");
}

TEST_CASE("an in-flight request and an open WebSocket survive 1,000 snapshot swaps") {
  Backend a("A", [](const Request& request, Response&, std::size_t) {
    if (request.target() == "/slow") std::this_thread::sleep_for(1s);
    return true;
  });
  Proxy proxy;
  const auto with_route = simple(service_of({{&a, 1}}));
  proxy.publish(with_route);
  net::io_context ioc;
  auto ws = open_websocket(ioc, proxy.port());
  auto slow = std::async(std::launch::async, [port = proxy.port()] {
    Client client(port);
    return client.request(proxy::test::get("/slow"));
  });
  std::this_thread::sleep_for(100ms);
  const config::Configuration empty;
  for (int i = 0; i < 1000; ++i) proxy.publish(i % 2 == 0 ? empty : with_route);
  const auto response = slow.get();
  CHECK(response.result() == http::status::ok);
  CHECK(response.body() == "A");
  CHECK(echo(*ws, "still here") == "still here");
  // The last snapshot published has the route again.
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).body() == "A");
  ws->close(beast::websocket::close_code::normal);
}

TEST_CASE("graceful stop lets an in-flight request finish and then refuses connections") {
  Backend a("A", [](const Request&, Response&, std::size_t) {
    std::this_thread::sleep_for(300ms);
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  const auto port = proxy.port();
  Client idle(port);
  auto in_flight = std::async(std::launch::async, [port] {
    Client client(port);
    return client.request(proxy::test::get("/"));
  });
  std::this_thread::sleep_for(100ms);
  proxy.server().stop(5s);
  const auto response = in_flight.get();
  CHECK(response.result() == http::status::ok);
  CHECK(response[http::field::connection] == "close");
  CHECK(idle.closed());
  CHECK_THROWS(Client(port));
}

TEST_CASE("a dial that does not complete in time answers 504") {
  // A listener whose accept queue is full drops further SYNs, so connecting to it hangs.
  net::io_context ioc;
  proxy::test::tcp::acceptor full(ioc, {net::ip::make_address("127.0.0.1"), 0});
  full.listen(0);
  const auto port = full.local_endpoint().port();
  std::vector<std::unique_ptr<proxy::test::tcp::socket>> fillers;
  for (int i = 0; i < 4; ++i) {
    auto socket = std::make_unique<proxy::test::tcp::socket>(ioc);
    socket->open(proxy::test::tcp::v4());
    socket->non_blocking(true);
    // Asio's connect would wait for completion; the raw call just sends the SYN.
    const proxy::test::tcp::endpoint target(net::ip::make_address("127.0.0.1"), port);
    ::connect(socket->native_handle(), target.data(), static_cast<socklen_t>(target.size()));
    fillers.push_back(std::move(socket));
  }
  std::this_thread::sleep_for(50ms);

  auto options = proxy::test::test_server_options();
  options.transport.dial_timeout = 300ms;
  Proxy proxy(options);
  proxy.publish(
      simple(runtime::test::load_balancer({{"http://127.0.0.1:" + std::to_string(port), 1}})));
  Client client(proxy.port());
  const auto started = std::chrono::steady_clock::now();
  const auto response = client.request(proxy::test::get("/"));
  CHECK(response.result() == http::status::gateway_timeout);
  CHECK(response.body() == "Gateway Timeout");
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("HEAD responses keep their Content-Length and carry no body") {
  Backend a("A", [](const Request&, Response& response, std::size_t) {
    response.body() = "0123456789";
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  client.write_raw("HEAD / HTTP/1.1\r\nHost: app\r\n\r\n");
  http::response_parser<http::string_body> parser;
  parser.skip(true);
  http::read(client.socket(), client.buffer(), parser);
  CHECK(parser.get().result() == http::status::ok);
  CHECK(parser.get()[http::field::content_length] == "10");
  // The next response on the connection starts right after the header.
  CHECK(client.request(proxy::test::get("/")).body() == "0123456789");
}

TEST_CASE("Expect: 100-continue is answered by the proxy before the body is relayed") {
  Backend a("A", [](const Request& request, Response& response, std::size_t) {
    response.body() = request.body();
    return true;
  });
  Proxy proxy;
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  client.write_raw(
      "POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  std::array<char, 25> interim{};
  net::read(client.socket(), net::buffer(interim));
  CHECK(std::string_view(interim.data(), interim.size()) == "HTTP/1.1 100 Continue\r\n\r\n");
  client.write_raw("body");
  CHECK(client.read().body() == "body");
  const auto seen = a.last_request();
  CHECK(seen.find(http::field::expect) == seen.end());
}

TEST_CASE(
    "an idle keep-alive connection closes at the idle timeout, a stalled request at the read "
    "timeout") {
  Backend a("A");
  auto options = proxy::test::test_server_options();
  options.entry_points[0].idle_timeout = 2s;
  options.entry_points[0].read_timeout = 300ms;
  Proxy proxy(options);
  proxy.publish(simple(service_of({{&a, 1}})));
  using clock = std::chrono::steady_clock;

  // Between requests the idle timeout applies, not the shorter read timeout.
  Client idle(proxy.port());
  CHECK(idle.request(proxy::test::get("/")).body() == "A");
  std::this_thread::sleep_for(600ms);
  CHECK(idle.request(proxy::test::get("/")).body() == "A");
  auto start = clock::now();
  CHECK(idle.closed());
  CHECK(clock::now() - start >= 1800ms);

  // A request that has begun must arrive whole within the read timeout.
  Client stalled(proxy.port());
  CHECK(stalled.request(proxy::test::get("/")).body() == "A");
  stalled.write_raw("GET / HTTP/1.1\r\nHost: app\r\n");
  start = clock::now();
  CHECK(stalled.closed());
  CHECK(clock::now() - start >= 250ms);
  CHECK(clock::now() - start < 1500ms);
}

TEST_CASE("a pooled upstream connection is reused until it was idle for the idle conn timeout") {
  Backend a("A");
  auto options = proxy::test::test_server_options();
  options.transport.idle_conn_timeout = 300ms;
  Proxy proxy(options);
  proxy.publish(simple(service_of({{&a, 1}})));
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).body() == "A");
  std::this_thread::sleep_for(100ms);
  CHECK(client.request(proxy::test::get("/")).body() == "A");
  CHECK(a.connections() == 1);
  // Idle past the timeout (and the sweep's period after it), the pooled connection was closed.
  std::this_thread::sleep_for(500ms);
  CHECK(client.request(proxy::test::get("/")).body() == "A");
  CHECK(a.connections() == 2);
}

TEST_CASE("a pooled connection the server closed while idle carries no request") {
  // Each connection answers one request with keep-alive, then the server closes it while idle.
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  std::atomic<int> connections{0};
  std::thread server([&] {
    for (int i = 0; i < 3; ++i) {
      tcp::socket socket(ioc);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (ec) return;
      ++connections;
      beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) continue;
      http::response<http::string_body> response{http::status::ok, 11};
      response.body() = "ok";
      response.prepare_payload();
      http::write(socket, response, ec);
      std::this_thread::sleep_for(50ms);
      socket.close(ec);
    }
  });
  config::Configuration conf;
  conf.http.services["svc@test"] = runtime::test::load_balancer(
      {{"http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()), 1}});
  conf.http.routers["app@test"] = router("Host(`app`)", "svc");
  auto options = proxy::test::test_server_options();
  options.workers = 1;
  Proxy proxy(options);
  proxy.publish(conf);

  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).result() == http::status::ok);
  std::this_thread::sleep_for(300ms);
  // Not retried if it failed, so it must not be sent on the closed connection.
  Request post{http::verb::post, "/", 11};
  post.set(http::field::host, "app");
  post.body() = "x";
  post.prepare_payload();
  CHECK(client.request(post).result() == http::status::ok);
  std::this_thread::sleep_for(300ms);
  // A GET may be, and is: on the closed connection, then on a fresh one.
  CHECK(client.request(proxy::test::get("/")).result() == http::status::ok);
  CHECK(connections == 3);
  acceptor.close();
  server.join();
}
