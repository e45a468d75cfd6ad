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
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace berth::proxy {

/// A header as it was on the wire: the name in the sender's case.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

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
  std::string_view router;           ///< empty: no router matched
  std::string_view service;          ///< empty: no router matched
  std::string_view server_url;       ///< empty: no server was picked
  std::uint64_t retry_attempts = 0;  ///< retries by the retry middleware (tries after the first)
  /// Filled only when the log shows headers (AccessLog::shows_headers): the request as it was
  /// forwarded, without Host (that is RequestAddr), and the response head sent to the client.
  std::span<const HeaderField> request_headers;
  std::span<const HeaderField> downstream_headers;
};

enum class AccessLogFormat { common, json };

/// Traefik's accessLog.filters. A line is kept when any configured filter matches it: its status
/// is in one of the ranges, it was retried, or it took longer than min_duration. With none
/// configured, every line is kept.
struct AccessLogFilters {
  std::vector<std::pair<unsigned, unsigned>> status_codes{};  ///< inclusive ranges
  bool retry_attempts = false;
  std::chrono::nanoseconds min_duration{0};  ///< 0: not a filter

  bool keeps(const RequestRecord& record) const noexcept;
};

/// keep, drop, or (headers only) redact: the value is written as "REDACTED".
enum class FieldMode : std::uint8_t { keep, drop, redact };

/// Traefik's accessLog.fields. Field names are Traefik's (ClientUsername, RequestPath...) and,
/// like header names, are matched whatever their case. They apply to both formats: a dropped
/// field is "-" in a common line, and the common line's referer and user agent are the request
/// headers Referer and User-Agent, so that (as in Traefik) they show only when those headers are
/// kept or redacted.
struct AccessLogFields {
  FieldMode default_mode = FieldMode::keep;
  std::vector<std::pair<std::string, FieldMode>> names{};
  FieldMode headers_default_mode = FieldMode::drop;
  std::vector<std::pair<std::string, FieldMode>> headers{};
};

/// The fields berth writes, in the order of Go's sorted JSON keys.
enum class LogField : std::uint8_t {
  client_addr,
  client_host,
  client_port,
  client_username,
  downstream_content_size,
  downstream_status,
  duration,
  origin_content_size,
  origin_status,
  overhead,
  request_addr,
  request_content_size,
  request_count,
  request_host,
  request_method,
  request_path,
  request_port,
  request_protocol,
  request_scheme,
  retry_attempts,
  router_name,
  service_addr,
  service_name,
  service_url,
  start_local,
  start_utc,
  entry_point_name,
  count
};

/// AccessLogFields made ready for the request path: a bit per field, header modes by name.
class LineFields {
 public:
  LineFields() : LineFields(AccessLogFields{}) {}
  explicit LineFields(const AccessLogFields& fields);

  bool keeps(LogField field) const noexcept {
    return ((kept_ >> static_cast<unsigned>(field)) & 1U) != 0;
  }
  FieldMode header_mode(std::string_view name) const noexcept;
  /// The modes of the headers a common line shows.
  FieldMode referer_mode() const noexcept { return referer_mode_; }
  FieldMode user_agent_mode() const noexcept { return user_agent_mode_; }
  /// Whether any header can show: otherwise a record needs no header views.
  bool shows_headers() const noexcept { return shows_headers_; }

 private:
  std::uint32_t kept_ = 0;
  FieldMode headers_default_mode_ = FieldMode::drop;
  std::vector<std::pair<std::string, FieldMode>> header_modes_;
  FieldMode referer_mode_ = FieldMode::drop;
  FieldMode user_agent_mode_ = FieldMode::drop;
  bool shows_headers_ = false;
};

/// Appends one line, '\n' included. Common: `<client> - <user> [<time>] "<method> <path>
/// <proto>" <status> <size> "<referer>" "<user-agent>" <count> "<router>" "<server>" <ms>ms`,
/// with "-" for what is unknown or dropped. JSON: Traefik's field names (ClientHost,
/// DownstreamStatus, Duration in nanoseconds, StartUTC...) and headers as request_<Name> and
/// downstream_<Name> (Go's canonical name, repeated headers joined by ","), keys sorted as Go
/// writes them.
void format_access_line(const RequestRecord& record, AccessLogFormat format,
                        const LineFields& fields, std::string& out);

struct AccessLogOptions {
  std::string file_path;  ///< empty: standard output
  AccessLogFormat format = AccessLogFormat::common;
  std::size_t ring_bytes = 1 << 20;  ///< per producer: lines waiting for the writer
  std::chrono::milliseconds flush_interval{50};
  AccessLogFilters filters{};
  AccessLogFields fields{};
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

  /// Whether the filters keep a line for `record` (write checks it too).
  bool keeps(const RequestRecord& record) const noexcept { return options_.filters.keeps(record); }
  /// Whether records need their header views.
  bool shows_headers() const noexcept { return fields_.shows_headers(); }

  /// Formats and queues a line unless the filters drop it; called only by the thread that owns
  /// ring `producer`. Never blocks and, once the producer's scratch buffer has grown to its
  /// longest line, never allocates.
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
  LineFields fields_;
  int fd_ = -1;
  bool owns_fd_ = false;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::atomic<bool> stopping_{false};
  std::thread writer_;
};

}  // namespace berth::proxy
