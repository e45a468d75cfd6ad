#pragma once
// Synchronous HTTP/1.1 and WebSocket clients for tests, over Beast, every operation bounded by a
// timeout. Beast stays out of this header so tests that include it compile quickly.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/result.hpp"

namespace berth::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  Headers headers;  ///< sent as given; Host defaults to host:port when absent
  std::string body;
};

struct HttpResponse {
  unsigned status = 0;
  Headers headers;
  std::string body;
  bool keep_alive = false;

  /// The first header with this name (case-insensitive).
  auto header(std::string_view name) const -> std::optional<std::string>;
};

/// One connection, kept alive between requests and reopened when the server closed it.
class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds{5});
  HttpClient(HttpClient&&) noexcept;
  auto operator=(HttpClient&&) noexcept -> HttpClient&;
  HttpClient(const HttpClient&) = delete;
  auto operator=(const HttpClient&) -> HttpClient& = delete;
  ~HttpClient();

  auto request(const HttpRequest& request) -> Result<HttpResponse>;
  auto get(std::string target, Headers headers = {}) -> Result<HttpResponse>;

  /// Whether a connection is open (it stays open after a keep-alive response).
  auto connected() const -> bool;
  void close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// One request on a fresh connection.
auto http_get(const std::string& host, std::uint16_t port, std::string target,
              std::chrono::milliseconds timeout = std::chrono::seconds{5}) -> Result<HttpResponse>;

/// A WebSocket client connection; messages are text.
class WebSocketClient {
 public:
  static auto connect(const std::string& host, std::uint16_t port, std::string target,
                      std::chrono::milliseconds timeout = std::chrono::seconds{5},
                      const Headers& headers = {}) -> Result<WebSocketClient>;
  WebSocketClient(WebSocketClient&&) noexcept;
  auto operator=(WebSocketClient&&) noexcept -> WebSocketClient&;
  WebSocketClient(const WebSocketClient&) = delete;
  auto operator=(const WebSocketClient&) -> WebSocketClient& = delete;
  ~WebSocketClient();

  auto send(std::string_view text) -> Status;
  /// The next message; fails on timeout, error or when the peer closed (see close_code()).
  auto receive() -> Result<std::string>;
  auto close() -> Status;
  /// The close code the peer sent, 0 while it has not closed.
  auto close_code() const -> std::uint16_t;

 private:
  struct State;
  explicit WebSocketClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace berth::test
