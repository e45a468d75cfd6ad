#include "berth/proxy/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>

namespace berth::proxy {
namespace {

constexpr std::string_view unknown = "-";

/// Go's time.Month abbreviations; strftime's %b would follow the locale.
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// Formats a short piece (every use here is under 64 characters) through a stack buffer: fmt
/// writes to a pointer directly, where a back_inserter goes through a staging buffer.
template <class... Args>
void append(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  std::array<char, 64> piece;  // written by fmt before it is read
  const auto result =
      fmt::format_to_n(piece.data(), piece.size(), format, std::forward<Args>(args)...);
  out.append(piece.data(), std::min(result.size, piece.size()));
}

/// A common-format field: quotes, backslashes and control bytes escaped so that a client cannot
/// forge a field boundary or a line.
void append_escaped(std::string& out, std::string_view value) {
  if (value.empty()) {
    out += unknown;
    return;
  }
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      append(out, "\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
}

void append_quoted(std::string& out, std::string_view value) {
  out += '"';
  append_escaped(out, value);
  out += '"';
}

/// JSON string content as Go's encoding/json writes it (HTML-safe: <, > and & escaped too).
void append_json_chars(std::string& out, std::string_view value) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
        append(out, "\\u{:04x}", byte);
        break;
      default:
        if (byte < 0x20) {
          append(out, "\\u{:04x}", byte);
        } else {
          out += c;
        }
    }
  }
}

void append_json_string(std::string& out, std::string_view value) {
  out += '"';
  append_json_chars(out, value);
  out += '"';
}

struct Civil {
  std::tm tm{};
  long nanoseconds = 0;
  long offset_seconds = 0;  ///< east of UTC
};

/// The local zone's offset from UTC at `t`. localtime_r costs more than the rest of a line, and
/// offsets change only on minute boundaries, so each thread asks once a minute.
long local_offset(std::time_t t) {
  thread_local std::time_t cached_minute = -1;
  thread_local long cached_offset = 0;
  if (t / 60 != cached_minute) {
    std::tm tm{};
    localtime_r(&t, &tm);
    cached_offset = tm.tm_gmtoff;
    cached_minute = t / 60;
  }
  return cached_offset;
}

Civil civil(std::chrono::system_clock::time_point time, bool local) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<nanoseconds>(time.time_since_epoch());
  auto seconds = duration_cast<std::chrono::seconds>(since_epoch);
  if (seconds > since_epoch) seconds -= std::chrono::seconds{1};
  Civil out;
  out.nanoseconds = static_cast<long>((since_epoch - seconds).count());
  auto t = static_cast<std::time_t>(seconds.count());
  if (local) {
    out.offset_seconds = local_offset(t);
    t += out.offset_seconds;
  }
  gmtime_r(&t, &out.tm);
  return out;
}

/// Go's RFC3339Nano: trailing zeros of the fraction dropped, "Z" for UTC.
void append_rfc3339(std::string& out, std::chrono::system_clock::time_point time, bool local,
                    bool fraction) {
  const Civil c = civil(time, local);
  append(out, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.tm.tm_year + 1900, c.tm.tm_mon + 1,
         c.tm.tm_mday, c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec);
  if (fraction && c.nanoseconds != 0) {
    std::array<char, 10> digits{};
    fmt::format_to_n(digits.data(), 9, "{:09}", c.nanoseconds);
    std::size_t length = 9;
    while (length > 0 && digits[length - 1] == '0') --length;
    out += '.';
    out.append(digits.data(), length);
  }
  if (c.offset_seconds == 0) {
    out += 'Z';
  } else {
    const long minutes = std::labs(c.offset_seconds) / 60;
    append(out, "{}{:02}:{:02}", c.offset_seconds < 0 ? '-' : '+', minutes / 60, minutes % 60);
  }
}

/// "host:port" of a server URL ("http://10.0.0.2:80/api" -> "10.0.0.2:80").
std::string_view url_authority(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  return url.substr(0, url.find('/'));
}

/// Go's net.SplitHostPort, with Traefik's fallback: the whole value and "-" when there is no port.
std::pair<std::string_view, std::string_view> split_host_port(std::string_view value) {
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close != std::string_view::npos && close + 1 < value.size() && value[close + 1] == ':') {
      return {value.substr(1, close - 1), value.substr(close + 2)};
    }
    return {value, unknown};
  }
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos || value.find(':') != colon) return {value, unknown};
  return {value.substr(0, colon), value.substr(colon + 1)};
}

/// Traefik's names of the LogField values, in the same order.
constexpr std::array<std::string_view, static_cast<std::size_t>(LogField::count)> field_names{
    "ClientAddr",
    "ClientHost",
    "ClientPort",
    "ClientUsername",
    "DownstreamContentSize",
    "DownstreamStatus",
    "Duration",
    "OriginContentSize",
    "OriginStatus",
    "Overhead",
    "RequestAddr",
    "RequestContentSize",
    "RequestCount",
    "RequestHost",
    "RequestMethod",
    "RequestPath",
    "RequestPort",
    "RequestProtocol",
    "RequestScheme",
    "RetryAttempts",
    "RouterName",
    "ServiceAddr",
    "ServiceName",
    "ServiceURL",
    "StartLocal",
    "StartUTC",
    "entryPointName"};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

/// The character at `i` of Go's canonical form of a header name (CanonicalMIMEHeaderKey): upper
/// case at the start and after '-', lower case elsewhere.
char canonical_at(std::string_view name, std::size_t i) {
  const char c = name[i];
  if (i == 0 || name[i - 1] == '-') return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
  return lower(c);
}

/// Compares canonical forms without making them: Go writes JSON keys in byte order.
int compare_canonical(std::string_view a, std::string_view b) {
  const std::size_t common = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < common; ++i) {
    const auto x = static_cast<unsigned char>(canonical_at(a, i));
    const auto y = static_cast<unsigned char>(canonical_at(b, i));
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

constexpr std::string_view redacted = "REDACTED";

/// A header as a common-format field: "-" unless the header is kept or redacted.
void append_common_header(std::string& out, std::string_view value, FieldMode mode) {
  if (mode == FieldMode::redact && !value.empty()) value = redacted;
  append_quoted(out, mode == FieldMode::drop ? std::string_view{} : value);
}

void format_common(const RequestRecord& r, const LineFields& f, std::string& out) {
  const auto field = [&f](LogField name, std::string_view value) {
    return f.keeps(name) ? value : std::string_view{};
  };
  append_escaped(out, field(LogField::client_host, r.client_ip));
  out += " - ";
  append_escaped(out, field(LogField::client_username, r.user));
  // Traefik's: the UTC start, else the local one, else "-".
  const bool utc = f.keeps(LogField::start_utc);
  if (utc || f.keeps(LogField::start_local)) {
    const Civil start = civil(r.start, !utc);
    const long minutes = std::labs(start.offset_seconds) / 60;
    append(out, " [{:02}/{}/{:04}:{:02}:{:02}:{:02} {}{:02}{:02}] \"", start.tm.tm_mday,
           months[static_cast<std::size_t>(start.tm.tm_mon)], start.tm.tm_year + 1900,
           start.tm.tm_hour, start.tm.tm_min, start.tm.tm_sec, start.offset_seconds < 0 ? '-' : '+',
           minutes / 60, minutes % 60);
  } else {
    out += " [-] \"";
  }
  append_escaped(out, field(LogField::request_method, r.method));
  out += ' ';
  append_escaped(out, field(LogField::request_path, r.path));
  out += ' ';
  append_escaped(out, field(LogField::request_protocol, r.protocol));
  out += "\" ";
  const auto number = [&](LogField name, std::uint64_t value) {
    if (f.keeps(name)) {
      append(out, "{}", value);
    } else {
      out += unknown;
    }
  };
  number(LogField::downstream_status, r.status);
  out += ' ';
  number(LogField::downstream_content_size, r.response_bytes);
  out += ' ';
  append_common_header(out, r.referer, f.referer_mode());
  out += ' ';
  append_common_header(out, r.user_agent, f.user_agent_mode());
  out += ' ';
  number(LogField::request_count, r.request_count);
  out += ' ';
  append_quoted(out, field(LogField::router_name, r.router));
  out += ' ';
  append_quoted(out, field(LogField::service_url, r.server_url));
  const auto duration = f.keeps(LogField::duration) ? r.duration : std::chrono::nanoseconds{0};
  append(out, " {}ms\n", std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

class JsonLine {
 public:
  JsonLine(std::string& out, const LineFields& fields) : out_(out), fields_(fields) { out_ += '{'; }

  void key(std::string_view name) {
    out_ += out_.back() == '{' ? "\"" : ",\"";
    out_ += name;
    out_ += "\":";
  }
  /// Whether `field` is kept, its key written if so.
  bool field(LogField field) {
    if (!fields_.keeps(field)) return false;
    key(field_names[static_cast<std::size_t>(field)]);
    return true;
  }
  void text(LogField name, std::string_view value) {
    if (field(name)) append_json_string(out_, value);
  }
  void number(LogField name, std::uint64_t value) {
    if (field(name)) append(out_, "{}", value);
  }
  void time(LogField name, std::chrono::system_clock::time_point value, bool local) {
    if (!field(name)) return;
    out_ += '"';
    append_rfc3339(out_, value, local, true);
    out_ += '"';
  }

  /// `prefix` + each header's canonical name, in byte order, without allocating: each step
  /// finds the next name after the last one written. Repeated headers are joined by ",".
  void headers(std::string_view prefix, std::span<const HeaderField> headers) {
    const HeaderField* last = nullptr;
    for (;;) {
      const HeaderField* next = nullptr;
      for (const HeaderField& h : headers) {
        if (last != nullptr && compare_canonical(h.name, last->name) <= 0) continue;
        if (next == nullptr || compare_canonical(h.name, next->name) < 0) next = &h;
      }
      if (next == nullptr) return;
      last = next;
      const FieldMode mode = fields_.header_mode(next->name);
      if (mode == FieldMode::drop) continue;
      out_ += out_.back() == '{' ? "\"" : ",\"";
      out_ += prefix;
      for (std::size_t i = 0; i < next->name.size(); ++i) out_ += canonical_at(next->name, i);
      out_ += "\":\"";
      if (mode == FieldMode::redact) {
        out_ += redacted;
      } else {
        bool first = true;
        for (const HeaderField& h : headers) {
          if (compare_canonical(h.name, next->name) != 0) continue;
          if (!std::exchange(first, false)) out_ += ',';
          append_json_chars(out_, h.value);
        }
      }
      out_ += '"';
    }
  }

 private:
  std::string& out_;
  const LineFields& fields_;
};

void format_json(const RequestRecord& r, const LineFields& f, std::string& out) {
  const auto [request_host, request_port] = split_host_port(r.host);
  const bool routed = !r.router.empty();
  const bool has_host = !r.host.empty();
  const bool has_server = !r.server_url.empty();
  const auto duration = static_cast<std::uint64_t>(std::max<std::int64_t>(r.duration.count(), 0));

  JsonLine line(out, f);
  if (line.field(LogField::client_addr)) {
    // Go's RemoteAddr: "[::1]:port" for IPv6.
    const bool ipv6 = r.client_ip.find(':') != std::string_view::npos;
    out += ipv6 ? "\"[" : "\"";
    append_json_chars(out, r.client_ip);
    append(out, "{}:{}\"", ipv6 ? "]" : "", r.client_port);
  }
  line.text(LogField::client_host, r.client_ip);
  if (line.field(LogField::client_port)) append(out, "\"{}\"", r.client_port);
  line.text(LogField::client_username, r.user.empty() ? unknown : r.user);
  line.number(LogField::downstream_content_size, r.response_bytes);
  line.number(LogField::downstream_status, r.status);
  line.number(LogField::duration, duration);
  if (r.origin_status != 0) {
    line.number(LogField::origin_content_size, r.response_bytes);
    line.number(LogField::origin_status, r.origin_status);
  }
  line.number(LogField::overhead, duration);
  if (has_host) line.text(LogField::request_addr, r.host);
  line.number(LogField::request_content_size, r.request_bytes);
  line.number(LogField::request_count, r.request_count);
  if (has_host) line.text(LogField::request_host, request_host);
  line.text(LogField::request_method, r.method);
  line.text(LogField::request_path, r.path);
  if (has_host) line.text(LogField::request_port, request_port);
  line.text(LogField::request_protocol, r.protocol);
  line.text(LogField::request_scheme, r.tls ? "https" : "http");
  line.number(LogField::retry_attempts, r.retry_attempts);
  if (routed) line.text(LogField::router_name, r.router);
  if (has_server) line.text(LogField::service_addr, url_authority(r.server_url));
  if (routed) line.text(LogField::service_name, r.service);
  if (has_server) line.text(LogField::service_url, r.server_url);
  line.time(LogField::start_local, r.start, true);
  line.time(LogField::start_utc, r.start, false);
  line.headers("downstream_", r.downstream_headers);
  line.text(LogField::entry_point_name, r.entry_point);
  line.key("level");
  append_json_string(out, "info");
  line.key("msg");
  append_json_string(out, "");
  line.headers("request_", r.request_headers);
  line.key("time");
  out += '"';
  append_rfc3339(out, r.start + r.duration, true, false);
  out += "\"}\n";
}

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    // A log that cannot be written (disk full, closed pipe) loses lines, never requests.
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

bool AccessLogFilters::keeps(const RequestRecord& record) const noexcept {
  const bool any = !status_codes.empty() || retry_attempts || min_duration.count() > 0;
  if (!any) return true;
  for (const auto& [low, high] : status_codes) {
    if (record.status >= low && record.status <= high) return true;
  }
  if (retry_attempts && record.retry_attempts > 0) return true;
  return min_duration.count() > 0 && record.duration > min_duration;
}

LineFields::LineFields(const AccessLogFields& fields)
    : headers_default_mode_(fields.headers_default_mode), header_modes_(fields.headers) {
  for (std::size_t i = 0; i < field_names.size(); ++i) {
    FieldMode mode = fields.default_mode;
    for (const auto& [name, named_mode] : fields.names) {
      if (boost::beast::iequals(name, field_names[i])) mode = named_mode;
    }
    if (mode != FieldMode::drop) kept_ |= 1U << i;
  }
  shows_headers_ = headers_default_mode_ != FieldMode::drop;
  for (const auto& [name, mode] : header_modes_) {
    shows_headers_ = shows_headers_ || mode != FieldMode::drop;
  }
  referer_mode_ = header_mode("Referer");
  user_agent_mode_ = header_mode("User-Agent");
}

FieldMode LineFields::header_mode(std::string_view name) const noexcept {
  for (const auto& [key, mode] : header_modes_) {
    if (boost::beast::iequals(key, name)) return mode;
  }
  return headers_default_mode_;
}

void format_access_line(const RequestRecord& record, AccessLogFormat format,
                        const LineFields& fields, std::string& out) {
  if (format == AccessLogFormat::json) {
    format_json(record, fields, out);
  } else {
    format_common(record, fields, out);
  }
}

// -----------------------------------------------------------------------------------------------
// AccessLog

/// One producer (a worker), one consumer (the writer). Positions only grow; the byte at position p
/// lives at data[p % capacity]. A line is published whole by one store of `head`.
struct AccessLog::Ring {
  explicit Ring(std::size_t size) : data(size), capacity(size) {}
  std::vector<char> data;
  std::size_t capacity;
  alignas(64) std::atomic<std::uint64_t> head{0};
  alignas(64) std::atomic<std::uint64_t> tail{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> written{0};
  std::string scratch;  ///< the producer's formatting buffer, kept between lines
};

AccessLog::AccessLog(AccessLogOptions options, unsigned producers)
    : options_(std::move(options)), fields_(options_.fields) {
  if (options_.file_path.empty()) {
    fd_ = STDOUT_FILENO;
  } else {
    const std::filesystem::path path(options_.file_path);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    fd_ = ::open(options_.file_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0664);
    if (fd_ < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "access log \"" + options_.file_path + "\"");
    }
    owns_fd_ = true;
  }
  options_.ring_bytes = std::max<std::size_t>(options_.ring_bytes, 4096);
  for (unsigned i = 0; i < std::max(1U, producers); ++i) {
    rings_.push_back(std::make_unique<Ring>(options_.ring_bytes));
    rings_.back()->scratch.reserve(1024);
  }
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  stopping_.store(true);
  if (writer_.joinable()) writer_.join();
  if (owns_fd_) ::close(fd_);
}

void AccessLog::write(unsigned producer, const RequestRecord& record) {
  if (!options_.filters.keeps(record)) return;
  Ring& ring = *rings_[producer % rings_.size()];
  ring.scratch.clear();
  format_access_line(record, options_.format, fields_, ring.scratch);
  const std::size_t size = ring.scratch.size();
  const std::uint64_t head = ring.head.load(std::memory_order_relaxed);
  const std::uint64_t used = head - ring.tail.load(std::memory_order_acquire);
  if (size > ring.capacity - used) {
    ring.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::size_t at = head % ring.capacity;
  const std::size_t first = std::min(size, ring.capacity - at);
  std::copy_n(ring.scratch.data(), first, ring.data.data() + at);
  std::copy_n(ring.scratch.data() + first, size - first, ring.data.data());
  ring.head.store(head + size, std::memory_order_release);
  ring.written.fetch_add(1, std::memory_order_relaxed);
}

bool AccessLog::drain() {
  bool wrote = false;
  for (auto& ring : rings_) {
    const std::uint64_t tail = ring->tail.load(std::memory_order_relaxed);
    const std::uint64_t head = ring->head.load(std::memory_order_acquire);
    if (head == tail) continue;
    const std::size_t size = head - tail;
    const std::size_t at = tail % ring->capacity;
    const std::size_t first = std::min(size, ring->capacity - at);
    write_all(fd_, ring->data.data() + at, first);
    write_all(fd_, ring->data.data(), size - first);
    ring->tail.store(head, std::memory_order_release);
    wrote = true;
  }
  return wrote;
}

void AccessLog::run() {
  while (!stopping_.load()) {
    if (!drain()) std::this_thread::sleep_for(options_.flush_interval);
  }
  drain();
}

void AccessLog::flush() {
  std::vector<std::uint64_t> heads;
  for (const auto& ring : rings_) heads.push_back(ring->head.load(std::memory_order_acquire));
  // Bounded: a writer blocked on a stuck stdout must not hang a shutdown.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    while (rings_[i]->tail.load(std::memory_order_acquire) < heads[i] &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
  }
}

std::uint64_t AccessLog::dropped() const noexcept {
  std::uint64_t total = 0;
  for (const auto& ring : rings_) total += ring->dropped.load(std::memory_order_relaxed);
  return total;
}

std::uint64_t AccessLog::written() const noexcept {
  std::uint64_t total = 0;
  for (const auto& ring : rings_) total += ring->written.load(std::memory_order_relaxed);
  return total;
}

}  // namespace berth::proxy
