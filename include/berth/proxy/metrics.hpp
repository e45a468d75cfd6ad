#pragma once
// Per-request metrics of the data plane, as Traefik's Prometheus metrics count them: requests,
// durations and bytes by code, method and protocol, and requests in flight, for each entry point,
// router and service. Each worker counts into a table of its own without locks; collecting merges
// the tables at scrape time. This header only describes what a collection returns: the proxy knows
// nothing of Prometheus' text format (the app turns a MetricsSnapshot into /metrics families).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::proxy {

/// Traefik's `protocol` label.
enum class Protocol : std::uint8_t { http, websocket, sse };

std::string_view to_string(Protocol protocol) noexcept;

/// Traefik's default request duration buckets, in seconds (upper bounds; +Inf is implied).
inline constexpr std::array<double, 4> duration_buckets{0.1, 0.3, 1.2, 5.0};

enum class Scope : std::uint8_t { entry_point, router, service };

/// Finished requests of one (scope, name, code, method, protocol).
struct RequestSeries {
  Scope scope = Scope::entry_point;
  std::string name;  ///< entry point, router or service name
  unsigned code = 0;
  std::string method;
  Protocol protocol = Protocol::http;
  std::uint64_t requests = 0;
  std::uint64_t request_bytes = 0;   ///< request bodies
  std::uint64_t response_bytes = 0;  ///< response bodies
  /// Requests per duration bucket, not cumulative; the last one is above every bound (+Inf).
  std::array<std::uint64_t, duration_buckets.size() + 1> buckets{};
  double duration_seconds = 0;  ///< sum of durations
};

/// Requests in flight (a WebSocket counts until its tunnel closes) of one (scope, name, method,
/// protocol).
struct OpenSeries {
  Scope scope = Scope::entry_point;
  std::string name;
  std::string method;
  Protocol protocol = Protocol::http;
  std::int64_t open = 0;
};

/// Open client connections (TCP, TLS or not) of an entry point: Traefik v3's open_connections.
struct ConnectionSeries {
  std::string entry_point;
  std::int64_t open = 0;
};

struct MetricsSnapshot {
  std::vector<RequestSeries> requests;        ///< merged over workers, sorted by their labels
  std::vector<OpenSeries> open;               ///< merged over workers, sorted by their labels
  std::vector<ConnectionSeries> connections;  ///< merged over workers, sorted by entry point
  std::uint64_t access_log_dropped = 0;  ///< lines the access log writer could not keep up with
  std::uint64_t access_log_written = 0;  ///< lines handed to the access log writer
};

/// Which scopes are counted (Traefik's addEntryPointsLabels, addRoutersLabels, addServicesLabels).
struct MetricsOptions {
  bool enabled = false;
  bool entry_points = true;
  bool routers = false;
  bool services = true;
};

}  // namespace berth::proxy
