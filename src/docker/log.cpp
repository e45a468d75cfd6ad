#include "berth/docker/log.hpp"

#include <fmt/chrono.h>

#include <chrono>
#include <cstdio>
#include <mutex>

namespace berth::docker {

namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "DBG";
    case LogLevel::info:
      return "INF";
    case LogLevel::warn:
      return "WRN";
    case LogLevel::error:
      return "ERR";
  }
  return "???";
}

}  // namespace

void log_line(LogLevel level, std::string_view message) {
  static std::mutex mutex;
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const std::string line =
      fmt::format("{:%FT%TZ} {} docker: {}\n", now, level_name(level), message);
  // One write per line so lines from different threads never interleave.
  const std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace berth::docker
