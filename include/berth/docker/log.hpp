#pragma once
// A stand-in for the project-wide logger: one line per message on stderr, with a level and the
// component. The lead replaces this when logging is unified.

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace berth::docker {

enum class LogLevel { debug, info, warn, error };

/// Writes one line "<time> <LEVEL> docker: <message>" to stderr (thread-safe).
void log_line(LogLevel level, std::string_view message);

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  log_line(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace berth::docker
