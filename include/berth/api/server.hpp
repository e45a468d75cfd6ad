#pragma once
// The `traefik` entry point's HTTP server: the REST API (api::handle), /api/events (Server-Sent
// Events), the dashboard, /ping and /metrics, over Beast.
//
// Threading: the server runs on a thread of its own with its own io_context, so a slow API client
// or a large JSON rendering never delays the control plane, and this header stays free of Asio.
// update() and begin_shutdown() may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "berth/api/handler.hpp"
#include "berth/api/metrics.hpp"
#include "berth/api/state.hpp"

namespace berth::api {

struct ServerOptions {
  /// ":8080" (every interface), "127.0.0.1:0", "[::1]:8080"; a "/tcp" suffix is accepted.
  std::string address = ":8080";
  /// Traefik's api.basePath: the API and dashboard live under it; /ping and /metrics do not.
  std::string base_path = "/";
  bool api = true;                         ///< /api/* and /api/events
  bool dashboard = true;                   ///< / (redirect) and /dashboard/
  bool ping = false;                       ///< /ping
  bool metrics = false;                    ///< /metrics
  unsigned ping_terminating_status = 503;  ///< /ping's answer after begin_shutdown()
  VersionInfo version;                     ///< /api/version
  MetricsSource metrics_source;            ///< extra /metrics families; may be empty
  std::chrono::milliseconds heartbeat = std::chrono::seconds{15};  ///< SSE comment interval
  /// Reading one request, and waiting for the next one on a kept-alive connection.
  std::chrono::milliseconds read_timeout = std::chrono::seconds{60};
  std::chrono::milliseconds write_timeout = std::chrono::seconds{30};  ///< per write
  std::size_t max_connections = 512;  ///< beyond this, new connections are closed at once
  std::size_t max_event_clients = 64;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
};

class Server {
 public:
  /// Binds the address. Throws std::system_error (start-up only) when it cannot.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Starts serving on the server's own thread. Until the first update() the State is empty.
  void start();

  /// Closes the listener and every connection, joins the thread. Idempotent.
  void stop();

  /// The bound port (useful with port 0).
  std::uint16_t port() const noexcept;

  /// Publishes a new State: requests from now on see it, and /api/events clients get what changed.
  /// Cheap: stores a pointer and posts the diff to the server's thread.
  void update(std::shared_ptr<const State> state);

  /// /ping answers ping_terminating_status from now on.
  void begin_shutdown() noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// For `berth healthcheck`: 0 when GET http://<address>/ping answers 200 within `timeout`, else 1.
/// An address without a host (":8080") means the loopback interface.
int probe_ping(std::string_view address, std::chrono::milliseconds timeout);

}  // namespace berth::api
