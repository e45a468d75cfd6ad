#pragma once
// The access log: one line per finished request, in Traefik's common log format or its JSON form.
// Formatting is pure (format_access_line). AccessLog writes from a thread of its own: each worker
// appends whole lines to a ring of its own (one producer, one consumer, no lock), and the writer
// drains the rings to the file. When a ring is full (a slow disk, a blocked stdout) the line is
// dropped and counted, so the request path never waits for the log.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace berth::proxy {

/// What the access log and the metrics know of a finished request. Views stay valid only for the
/// call they are passed to.
struct RequestRecord {
  std::string_view client_ip;
  std::uint16_t client_port = 0;
  std::string_view user;  ///< empty: unknown ("-")
  std::chrono::system_clock::time_point start;
  std::chrono::nanoseconds duration{0};
  std::string_view method;
  std::string_view path;      ///< the request target as the client sent it
  std::string_view protocol;  ///< "HTTP/1.1"
  std::string_view host;      ///< the Host header
  bool tls = false;
  unsigned status = 0;         ///< sent to the client
  unsigned origin_status = 0;  ///< 0: no server answered (a local response)
  std::uint64_t request_bytes = 0;
  std::uint64_t response_bytes = 0;
  std::string_view referer;
  std::string_view user_agent;
  std::uint64_t request_count = 0;  ///< requests received since start, this one included
  std::string_view entry_point;
  std::string_view router;      ///< empty: no router matched
  std::string_view service;     ///< empty: no router matched
  std::string_view server_url;  ///< empty: no server was picked
};

enum class AccessLogFormat { common, json };

/// Appends one line, '\n' included. Common: `<client> - <user> [<time>] "<method> <path>
/// <proto>" <status> <size> "<referer>" "<user-agent>" <count> "<router>" "<server>" <ms>ms`,
/// with "-" for what is unknown. JSON: Traefik's field names (ClientHost, DownstreamStatus,
/// Duration in nanoseconds, StartUTC...), keys sorted as Go writes them.
void format_access_line(const RequestRecord& record, AccessLogFormat format, std::string& out);

struct AccessLogOptions {
  std::string file_path;  ///< empty: standard output
  AccessLogFormat format = AccessLogFormat::common;
  std::size_t ring_bytes = 1 << 20;  ///< per producer: lines waiting for the writer
  std::chrono::milliseconds flush_interval{50};
};

class AccessLog {
 public:
  /// Opens the file (appending, created 0664) and starts the writer thread. `producers` rings are
  /// made, one per worker. Throws std::system_error when the file cannot be opened (start-up only).
  AccessLog(AccessLogOptions options, unsigned producers);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  AccessLog(AccessLog&&) = delete;
  AccessLog& operator=(AccessLog&&) = delete;

  /// Formats and queues a line; called only by the thread that owns ring `producer`. Never blocks
  /// and, once the producer's scratch buffer has grown to its longest line, never allocates.
  void write(unsigned producer, const RequestRecord& record);

  /// Waits until every line queued so far is written (tests, shutdown).
  void flush();

  std::uint64_t dropped() const noexcept;
  std::uint64_t written() const noexcept;
  unsigned producers() const noexcept { return static_cast<unsigned>(rings_.size()); }

  struct Ring;

 private:
  bool drain();
  void run();

  AccessLogOptions options_;
  int fd_ = -1;
  bool owns_fd_ = false;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::atomic<bool> stopping_{false};
  std::thread writer_;
};

}  // namespace berth::proxy
