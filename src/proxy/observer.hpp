#pragma once
// Private to the proxy: what a session knows of its current request for the metrics and the access
// log. The session calls begin() once the request header is read, route() once a router matched,
// adds body bytes as they pass, and end() when the answer is decided; end() records the request in
// the worker's MetricsTable and queues its access log line. A 101 is held until the WebSocket
// tunnel closes (end_tunnel), so that it counts as open while it is.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "berth/middleware/message.hpp"
#include "berth/proxy/metrics.hpp"
#include "metrics_table.hpp"

namespace berth::proxy {

namespace http = boost::beast::http;

class Worker;

/// How the exchange ended, as end() needs it.
struct RequestOutcome {
  unsigned status = 0;                 ///< sent to the client
  unsigned origin_status = 0;          ///< 0: no server answered
  std::uint64_t local_body_bytes = 0;  ///< the body of a response berth wrote itself
  std::string_view server_url;         ///< empty: no server was picked
  /// The head sent to the client (null: none), for the access log's downstream_ headers.
  const middleware::ResponseHeader* response = nullptr;
};

class RequestObserver {
 public:
  /// Starts observing a request on entry point `entry_point` (a no-op when the worker has neither
  /// metrics nor an access log).
  void begin(Worker& worker, std::size_t entry_point, const middleware::RequestHeader& request);
  void route(Worker& worker, std::string_view router, std::string_view service);
  void add_request_bytes(std::size_t bytes) noexcept { request_bytes_ += bytes; }
  void add_response_bytes(std::size_t bytes) noexcept { response_bytes_ += bytes; }
  /// The retry middleware sent the request again.
  void add_retry() noexcept { ++retry_attempts_; }

  /// The answer is decided. `request` is the request as it is now (its original target and Host
  /// were kept by begin()). A 101 is held for end_tunnel.
  void end(Worker& worker, const RequestOutcome& outcome, const middleware::RequestHeader& request,
           std::string_view client_ip, bool tls);
  /// The WebSocket tunnel of a held 101 closed.
  void end_tunnel(Worker& worker, const middleware::RequestHeader& request,
                  std::string_view client_ip, bool tls);

  bool active() const noexcept { return active_; }
  std::uint16_t client_port = 0;

 private:
  void emit(Worker& worker, const middleware::RequestHeader& request,
            const middleware::ResponseHeader* response, std::string_view client_ip, bool tls);

  bool active_ = false;
  bool held_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::system_clock::time_point wall_start_;
  std::uint8_t method_ = 0;
  Protocol protocol_ = Protocol::http;
  unsigned version_ = 11;
  /// Interned in the worker's table, so they outlive the snapshot (a tunnel outlives it).
  std::array<std::uint32_t, 3> names_{MetricsTable::no_name, MetricsTable::no_name,
                                      MetricsTable::no_name};  ///< by Scope
  std::uint32_t server_ = MetricsTable::no_name;
  unsigned status_ = 0;
  unsigned origin_status_ = 0;
  std::uint64_t request_bytes_ = 0;
  std::uint64_t response_bytes_ = 0;
  std::uint64_t retry_attempts_ = 0;
  std::uint64_t request_count_ = 0;
  std::string target_;  ///< for the access log: the target and Host before any rewriting
  std::string host_;
};

}  // namespace berth::proxy
