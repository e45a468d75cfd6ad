#pragma once
// Durations as Traefik writes them: Go duration strings ("100ms", "1m30s") or plain integers (seconds).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace berth::config {

using Duration = std::chrono::nanoseconds;

/// Parses "10s", "1.5h", "300ms", "2h45m", "-1s" (Go's time.ParseDuration) or a plain integer meaning
/// seconds, as Traefik's labels and flags accept. nullopt on anything else.
std::optional<Duration> parse_duration(std::string_view text);

/// Formats as Go's time.Duration.String() does: "0s", "100ms", "1m30s", "1h0m0s", "1.5µs".
std::string format_duration(Duration value);

}  // namespace berth::config
