#pragma once
// berth's one logger: a line per message on stderr, in Traefik's levels and its two formats
// (`--log.level`, `--log.format=common|json`). Thread-safe; a disabled level costs one atomic load.

#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace berth::log {

enum class Level { trace, debug, info, warn, error, fatal };
enum class Format { common, json };

/// Parses Traefik's level names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC), any case.
bool parse_level(std::string_view text, Level& out);

/// Sets the lowest level written and the format; messages below it are dropped.
void configure(Level minimum, Format format);

bool enabled(Level level) noexcept;

/// Writes one line: `2026-11-26T05:00:00Z INF docker: message` or the JSON equivalent.
void write(Level level, std::string_view component, std::string_view message);

template <class... Args>
void at(Level level, std::string_view component, fmt::format_string<Args...> format,
        Args&&... args) {
  if (enabled(level)) write(level, component, fmt::format(format, std::forward<Args>(args)...));
}

template <class... Args>
void debug(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  at(Level::debug, component, format, std::forward<Args>(args)...);
}
template <class... Args>
void info(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  at(Level::info, component, format, std::forward<Args>(args)...);
}
template <class... Args>
void warn(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  at(Level::warn, component, format, std::forward<Args>(args)...);
}
template <class... Args>
void error(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  at(Level::error, component, format, std::forward<Args>(args)...);
}

/// Where lines go; stderr unless a test captures them.
using Sink = void (*)(std::string_view line);
void set_sink(Sink sink);

}  // namespace berth::log
