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

#include <fmt/format.h>

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

void format_common(const RequestRecord& r, std::string& out) {
  append_escaped(out, r.client_ip);
  out += " - ";
  append_escaped(out, r.user);
  const Civil start = civil(r.start, false);
  append(out, " [{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000] \"", start.tm.tm_mday,
         months[static_cast<std::size_t>(start.tm.tm_mon)], start.tm.tm_year + 1900,
         start.tm.tm_hour, start.tm.tm_min, start.tm.tm_sec);
  append_escaped(out, r.method);
  out += ' ';
  append_escaped(out, r.path);
  out += ' ';
  append_escaped(out, r.protocol);
  append(out, "\" {} {} ", r.status, r.response_bytes);
  append_quoted(out, r.referer);
  out += ' ';
  append_quoted(out, r.user_agent);
  append(out, " {} ", r.request_count);
  append_quoted(out, r.router);
  out += ' ';
  append_quoted(out, r.server_url);
  append(out, " {}ms\n", std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count());
}

void format_json(const RequestRecord& r, std::string& out) {
  const auto key = [&out](std::string_view name) {
    out += out.size() > 0 && out.back() != '{' ? ",\"" : "\"";
    out += name;
    out += "\":";
  };
  const auto text = [&](std::string_view name, std::string_view value) {
    key(name);
    append_json_string(out, value);
  };
  const auto number = [&](std::string_view name, auto value) {
    key(name);
    append(out, "{}", value);
  };
  const auto [request_host, request_port] = split_host_port(r.host);
  const bool routed = !r.router.empty();
  const auto duration = static_cast<long long>(r.duration.count());

  out += '{';
  // Go's RemoteAddr: "[::1]:port" for IPv6.
  const bool ipv6 = r.client_ip.find(':') != std::string_view::npos;
  key("ClientAddr");
  out += ipv6 ? "\"[" : "\"";
  append_json_chars(out, r.client_ip);
  append(out, "{}:{}\"", ipv6 ? "]" : "", r.client_port);
  text("ClientHost", r.client_ip);
  key("ClientPort");
  append(out, "\"{}\"", r.client_port);
  text("ClientUsername", r.user.empty() ? unknown : r.user);
  number("DownstreamContentSize", r.response_bytes);
  number("DownstreamStatus", r.status);
  number("Duration", duration);
  if (r.origin_status != 0) {
    number("OriginContentSize", r.response_bytes);
    number("OriginStatus", r.origin_status);
  }
  number("Overhead", duration);
  if (!r.host.empty()) text("RequestAddr", r.host);
  number("RequestContentSize", r.request_bytes);
  number("RequestCount", r.request_count);
  if (!r.host.empty()) text("RequestHost", request_host);
  text("RequestMethod", r.method);
  text("RequestPath", r.path);
  if (!r.host.empty()) text("RequestPort", request_port);
  text("RequestProtocol", r.protocol);
  text("RequestScheme", r.tls ? "https" : "http");
  number("RetryAttempts", 0);
  if (routed) text("RouterName", r.router);
  if (!r.server_url.empty()) text("ServiceAddr", url_authority(r.server_url));
  if (routed) text("ServiceName", r.service);
  if (!r.server_url.empty()) text("ServiceURL", r.server_url);
  key("StartLocal");
  out += '"';
  append_rfc3339(out, r.start, true, true);
  out += '"';
  key("StartUTC");
  out += '"';
  append_rfc3339(out, r.start, false, true);
  out += '"';
  text("entryPointName", r.entry_point);
  text("level", "info");
  text("msg", "");
  key("time");
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

void format_access_line(const RequestRecord& record, AccessLogFormat format, std::string& out) {
  if (format == AccessLogFormat::json) {
    format_json(record, out);
  } else {
    format_common(record, out);
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

AccessLog::AccessLog(AccessLogOptions options, unsigned producers) : options_(std::move(options)) {
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
  Ring& ring = *rings_[producer % rings_.size()];
  ring.scratch.clear();
  format_access_line(record, options_.format, ring.scratch);
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
