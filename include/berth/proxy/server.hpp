#pragma once
// The data plane: N workers, each with its own io_context, its own acceptor per entry point
// (SO_REUSEPORT) and its own upstream connection pools. A connection stays on one worker for life
// and the request path takes no lock. Snapshots are posted to every worker; a request keeps the
// snapshot it started with until it ends.

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/proxy/access_log.hpp"
#include "berth/proxy/metrics.hpp"
#include "berth/runtime/snapshot.hpp"

namespace berth::tls {
class Store;
}

namespace berth::proxy {

/// An entry point's http.redirections.entryPoint: every plain request is answered with a redirect
/// (301/302 for GET, 308/307 otherwise, as Traefik's redirect) unless a router of higher priority
/// matches. TLS requests on the same entry point are not redirected.
struct RedirectOptions {
  std::string scheme = "https";
  /// Redirect to this entry point's port (its bound port, so port 0 works); empty: use `port`.
  std::string entry_point;
  /// 0: no port in the Location. The scheme's default port (443, 80) is omitted too.
  std::uint16_t port = 0;
  bool permanent = true;
  std::int64_t priority = std::numeric_limits<std::int64_t>::max() - 1;
};

struct EntryPointOptions {
  std::string name;
  /// ":80" (all interfaces, IPv6 and IPv4), "0.0.0.0:80", "127.0.0.1:0", "[::1]:8080", with an
  /// optional "/tcp".
  std::string address;
  /// Reading a request; 0 = none.
  std::chrono::milliseconds read_timeout = std::chrono::seconds{60};
  /// Each write to the client; 0 = none.
  std::chrono::milliseconds write_timeout = std::chrono::seconds{0};
  /// Waiting for the next request on a keep-alive connection.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds{180};
  /// Keep X-Forwarded-* sent by clients (Traefik's forwardedHeaders.insecure); by default they are
  /// replaced.
  bool trust_forwarded_headers = false;
  std::optional<RedirectOptions> redirect{};
};

struct TransportOptions {
  std::chrono::milliseconds dial_timeout = std::chrono::seconds{30};
  std::chrono::milliseconds response_header_timeout = std::chrono::seconds{0};  ///< 0 = none
  std::chrono::milliseconds idle_conn_timeout = std::chrono::seconds{90};
  std::size_t max_idle_conns_per_host = 200;
  /// https:// servers: skip certificate and host name verification (serversTransport).
  bool insecure_skip_verify = false;
  /// CAs trusted for https:// servers besides the system ones: file paths or PEM content.
  std::vector<std::string> root_cas;
};

struct ServerOptions {
  std::vector<EntryPointOptions> entry_points;
  unsigned workers = 0;                    ///< 0: std::thread::hardware_concurrency()
  std::size_t max_header_bytes = 1 << 20;  ///< Go's http.DefaultMaxHeaderBytes
  std::size_t max_header_count = 512;
  TransportOptions transport;
  /// X-Forwarded-Server; empty: the host name.
  std::string server_name;
  /// Per-request metrics (--metrics.prometheus); off by default, so they cost nothing.
  MetricsOptions metrics;
  /// The access log (--accesslog); none when unset.
  std::optional<AccessLogOptions> access_log;
};

class Server {
 public:
  /// Binds every entry point on every worker. Throws std::system_error when an address cannot be
  /// bound, std::invalid_argument for a bad address, redirect target or root CA (start-up only).
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Starts the worker threads. Until a snapshot is published every request gets a 404.
  void start();

  /// Hands a snapshot to every worker; requests already running keep theirs.
  void publish(std::shared_ptr<const runtime::Snapshot> snapshot);

  /// Replaces the certificates and tls.options for new TLS connections (call on every TLS
  /// configuration change); open connections keep theirs. Until the first call a store with only a
  /// generated default certificate is used.
  void set_tls(std::shared_ptr<const tls::Store> store);

  /// The bound port of an entry point (useful with port 0).
  std::optional<std::uint16_t> port(std::string_view entry_point) const;

  /// Stops accepting, closes idle connections, lets in-flight requests finish for up to `grace`,
  /// then closes everything and joins the workers. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds{10});

  /// Open client connections over all workers (including WebSocket tunnels).
  std::size_t connections() const noexcept;

  unsigned workers() const noexcept;

  /// The workers' request metrics, merged. Thread-safe; each running worker answers on its own
  /// thread, and one that does not within `timeout` (500 ms is plenty) is left out.
  MetricsSnapshot collect_metrics(std::chrono::milliseconds timeout) const;

  /// Writes out the access log lines queued so far (tests); no-op without an access log.
  void flush_access_log() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::proxy
