#include "support/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>

namespace berth::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint64_t body_limit = 256U * 1024U * 1024U;

auto describe(std::string_view what, const beast::error_code& ec) -> std::string {
  return std::string{what} + ": " + ec.message();
}

// Runs what was started on `ioc` to completion; every operation's deadline is its tcp_stream's.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

auto open_connection(net::io_context& ioc, beast::tcp_stream& stream, const std::string& host,
                     std::uint16_t port, std::chrono::milliseconds timeout) -> beast::error_code {
  tcp::resolver resolver{ioc};
  beast::error_code ec;
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return ec;
  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run(ioc);
  return ec;
}

auto host_port(const std::string& host, std::uint16_t port) -> std::string {
  return host + ":" + std::to_string(port);
}

}  // namespace

auto HttpResponse::header(std::string_view name) const -> std::optional<std::string> {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) return value;
  }
  return std::nullopt;
}

struct HttpClient::State {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.reset();
    }
    buffer.clear();
  }

  // The response, or an error and whether it happened before the server answered anything.
  auto attempt(const HttpRequest& request, bool& retryable) -> Result<HttpResponse> {
    retryable = false;
    if (!stream) {
      stream.emplace(ioc);
      if (auto ec = open_connection(ioc, *stream, host, port, timeout)) {
        close();
        return Result<HttpResponse>::failure(describe("connect " + host_port(host, port), ec));
      }
    }
    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(request.target);
    req.version(11);
    for (const auto& [key, value] : request.headers) req.insert(key, value);
    if (req.find(http::field::host) == req.end()) req.set(http::field::host, host_port(host, port));
    req.body() = request.body;
    req.prepare_payload();

    beast::error_code ec;
    stream->expires_after(timeout);
    http::async_write(*stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
    run(ioc);
    if (ec) {
      retryable = true;
      close();
      return Result<HttpResponse>::failure(describe("write", ec));
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    parser.skip(req.method() == http::verb::head);
    stream->expires_after(timeout);
    http::async_read(*stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    run(ioc);
    if (ec) {
      retryable = ec == http::error::end_of_stream || ec == net::error::connection_reset;
      close();
      return Result<HttpResponse>::failure(describe("read", ec));
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    for (const auto& field : res) {
      out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    }
    out.body = std::move(res.body());
    out.keep_alive = res.keep_alive();
    if (!out.keep_alive) close();
    return out;
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  state_->host = std::move(host);
  state_->port = port;
  state_->timeout = timeout;
}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
auto HttpClient::operator=(HttpClient&&) noexcept -> HttpClient& = default;
HttpClient::~HttpClient() = default;

auto HttpClient::request(const HttpRequest& request) -> Result<HttpResponse> {
  bool reused = state_->stream.has_value();
  bool retryable = false;
  auto result = state_->attempt(request, retryable);
  // A kept-alive connection the server closed meanwhile fails before any answer: try a fresh one.
  if (!result && reused && retryable) result = state_->attempt(request, retryable);
  return result;
}

auto HttpClient::get(std::string target, Headers headers) -> Result<HttpResponse> {
  return request(HttpRequest{"GET", std::move(target), std::move(headers), {}});
}

auto HttpClient::connected() const -> bool {
  return state_->stream.has_value();
}

void HttpClient::close() {
  state_->close();
}

auto http_get(const std::string& host, std::uint16_t port, std::string target,
              std::chrono::milliseconds timeout) -> Result<HttpResponse> {
  HttpClient client{host, port, timeout};
  return client.get(std::move(target));
}

struct WebSocketClient::State {
  explicit State(std::chrono::milliseconds t) : timeout(t) {}

  std::chrono::milliseconds timeout;
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::uint16_t close_code = 0;

  auto finish(const char* what, beast::error_code ec) -> std::string {
    if (ec == websocket::error::closed) {
      close_code = ws.reason().code;
      return std::string{what} + ": closed by peer (code " + std::to_string(close_code) + ")";
    }
    return describe(what, ec);
  }
};

auto WebSocketClient::connect(const std::string& host, std::uint16_t port, std::string target,
                              std::chrono::milliseconds timeout, const Headers& headers)
    -> Result<WebSocketClient> {
  auto state = std::make_unique<State>(timeout);
  auto& lowest = beast::get_lowest_layer(state->ws);
  if (auto ec = open_connection(state->ioc, lowest, host, port, timeout)) {
    return Result<WebSocketClient>::failure(describe("connect " + host_port(host, port), ec));
  }
  state->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [key, value] : headers) req.set(key, value);
  }));
  beast::error_code ec;
  lowest.expires_after(timeout);
  state->ws.async_handshake(host_port(host, port), target, [&](beast::error_code e) { ec = e; });
  run(state->ioc);
  if (ec) return Result<WebSocketClient>::failure(describe("handshake " + target, ec));
  return WebSocketClient{std::move(state)};
}

WebSocketClient::WebSocketClient(std::unique_ptr<State> state) : state_(std::move(state)) {}
WebSocketClient::WebSocketClient(WebSocketClient&&) noexcept = default;
auto WebSocketClient::operator=(WebSocketClient&&) noexcept -> WebSocketClient& = default;
WebSocketClient::~WebSocketClient() = default;

auto WebSocketClient::send(std::string_view text) -> Status {
  beast::error_code ec;
  state_->ws.text(true);
  beast::get_lowest_layer(state_->ws).expires_after(state_->timeout);
  state_->ws.async_write(net::buffer(text), [&](beast::error_code e, std::size_t) { ec = e; });
  run(state_->ioc);
  if (ec) return Status::failure(state_->finish("send", ec));
  return std::monostate{};
}

auto WebSocketClient::receive() -> Result<std::string> {
  beast::error_code ec;
  beast::get_lowest_layer(state_->ws).expires_after(state_->timeout);
  state_->ws.async_read(state_->buffer, [&](beast::error_code e, std::size_t) { ec = e; });
  run(state_->ioc);
  if (ec) return Result<std::string>::failure(state_->finish("receive", ec));
  auto message = beast::buffers_to_string(state_->buffer.data());
  state_->buffer.consume(state_->buffer.size());
  return message;
}

auto WebSocketClient::close() -> Status {
  beast::error_code ec;
  beast::get_lowest_layer(state_->ws).expires_after(state_->timeout);
  state_->ws.async_close(websocket::close_code::normal, [&](beast::error_code e) { ec = e; });
  run(state_->ioc);
  if (ec) return Status::failure(describe("close", ec));
  return std::monostate{};
}

auto WebSocketClient::close_code() const -> std::uint16_t {
  return state_->close_code;
}

}  // namespace berth::test
