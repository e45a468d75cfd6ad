#include "berth/log/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>

namespace berth::log {
namespace {

std::atomic<Level> minimum_level{Level::error};  // Traefik's default
std::atomic<Format> output_format{Format::common};

void write_stderr(std::string_view line) {
  // One fwrite per line so that lines from several threads never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}
std::atomic<Sink> sink{&write_stderr};

std::string_view short_name(Level level) {
  switch (level) {
    case Level::trace:
      return "TRC";
    case Level::debug:
      return "DBG";
    case Level::info:
      return "INF";
    case Level::warn:
      return "WRN";
    case Level::error:
      return "ERR";
    case Level::fatal:
      return "FTL";
  }
  return "???";
}

std::string_view json_name(Level level) {
  switch (level) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
    case Level::fatal:
      return "fatal";
  }
  return "unknown";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
  static constexpr std::pair<std::string_view, Level> names[] = {
      {"trace", Level::trace}, {"debug", Level::debug}, {"info", Level::info},
      {"warn", Level::warn},   {"error", Level::error}, {"fatal", Level::fatal},
      {"panic", Level::fatal}};
  for (const auto& [name, level] : names) {
    if (iequals(text, name)) {
      out = level;
      return true;
    }
  }
  return false;
}

void configure(Level minimum, Format format) {
  minimum_level.store(minimum, std::memory_order_relaxed);
  output_format.store(format, std::memory_order_relaxed);
}

bool enabled(Level level) noexcept {
  return level >= minimum_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  // Milliseconds matter here: discovery latency is read off these lines.
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now - seconds).count();
  const std::string time = fmt::format("{:%FT%T}.{:03}Z", seconds, millis);
  std::string line;
  if (output_format.load(std::memory_order_relaxed) == Format::json) {
    const nlohmann::json object = {{"level", json_name(level)},
                                   {"time", time},
                                   {"component", component},
                                   {"message", message}};
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = fmt::format("{} {} {}: {}", time, short_name(level), component, message);
  }
  line += '\n';
  sink.load(std::memory_order_relaxed)(line);
}

void set_sink(Sink new_sink) {
  sink.store(new_sink ? new_sink : &write_stderr);
}

}  // namespace berth::log
