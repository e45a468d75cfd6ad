#include "berth/config/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace berth::config {
namespace {

constexpr std::uint64_t max_magnitude = std::uint64_t{1} << 63;

struct Unit {
  std::string_view name;
  std::uint64_t nanoseconds;
};

// Longest names first so that "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 8> units{{{"ns", 1},
                                     {"us", 1'000},
                                     {"\u00b5s", 1'000},  // micro sign, as Go prints it
                                     {"\u03bcs", 1'000},  // Greek mu, which Go also accepts
                                     {"ms", 1'000'000},
                                     {"s", 1'000'000'000},
                                     {"m", 60'000'000'000},
                                     {"h", 3'600'000'000'000}}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Go's time.ParseDuration, including its overflow rules and its handling of long fractions.
std::optional<Duration> parse_go_duration(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return std::nullopt;

  std::uint64_t total = 0;
  while (!s.empty()) {
    if (!(is_digit(s.front()) || s.front() == '.')) return std::nullopt;

    std::uint64_t whole = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (whole > (max_magnitude - 1) / 10) return std::nullopt;
      whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (whole > max_magnitude) return std::nullopt;
    }
    const bool had_whole = i > 0;
    s.remove_prefix(i);

    std::uint64_t fraction = 0;
    double scale = 1;
    bool had_fraction = false;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      bool overflowed = false;
      for (i = 0; i < s.size() && is_digit(s[i]); ++i) {
        // Digits beyond what fits are dropped, as Go does.
        if (overflowed) continue;
        if (fraction > (max_magnitude - 1) / 10) {
          overflowed = true;
          continue;
        }
        const std::uint64_t next = fraction * 10 + static_cast<std::uint64_t>(s[i] - '0');
        if (next > max_magnitude) {
          overflowed = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      had_fraction = i > 0;
      s.remove_prefix(i);
    }
    if (!had_whole && !had_fraction) return std::nullopt;

    std::size_t unit_length = 0;
    while (unit_length < s.size() && s[unit_length] != '.' && !is_digit(s[unit_length])) {
      ++unit_length;
    }
    if (unit_length == 0) return std::nullopt;
    const std::string_view unit_name = s.substr(0, unit_length);
    s.remove_prefix(unit_length);
    const Unit* unit = nullptr;
    for (const Unit& candidate : units) {
      if (candidate.name == unit_name) unit = &candidate;
    }
    if (unit == nullptr) return std::nullopt;

    if (whole > max_magnitude / unit->nanoseconds) return std::nullopt;
    std::uint64_t value = whole * unit->nanoseconds;
    if (fraction > 0) {
      value += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                          (static_cast<double>(unit->nanoseconds) / scale));
      if (value > max_magnitude) return std::nullopt;
    }
    total += value;
    if (total > max_magnitude) return std::nullopt;
  }
  if (negative) {
    if (total == max_magnitude) return Duration{std::numeric_limits<std::int64_t>::min()};
    return Duration{-static_cast<std::int64_t>(total)};
  }
  if (total > max_magnitude - 1) return std::nullopt;
  return Duration{static_cast<std::int64_t>(total)};
}

// Prints the fraction of v / 10^precision without trailing zeros, and returns v / 10^precision.
std::uint64_t format_fraction(std::string& out, std::uint64_t v, int precision) {
  std::string digits;
  bool printing = false;
  for (int i = 0; i < precision; ++i) {
    const auto digit = static_cast<char>('0' + v % 10);
    printing = printing || digit != '0';
    if (printing) digits.insert(digits.begin(), digit);
    v /= 10;
  }
  if (printing) out.insert(0, "." + digits);
  return v;
}

void format_integer(std::string& out, std::uint64_t v) {
  out.insert(0, std::to_string(v));
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  // Traefik's types.Duration first tries a plain integer, meaning seconds.
  std::int64_t seconds = 0;
  const std::string_view digits = !text.empty() && text.front() == '+' ? text.substr(1) : text;
  const char* end = digits.data() + digits.size();
  if (!digits.empty()) {
    const auto [ptr, ec] = std::from_chars(digits.data(), end, seconds);
    if (ec == std::errc{} && ptr == end) {
      constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
      if (seconds > limit || seconds < -limit) return std::nullopt;
      return std::chrono::seconds{seconds};
    }
  }
  return parse_go_duration(text);
}

std::string format_duration(Duration value) {
  const std::int64_t count = value.count();
  const bool negative = count < 0;
  // Two's complement negation in unsigned arithmetic also handles the minimum value.
  std::uint64_t u = static_cast<std::uint64_t>(count);
  if (negative) u = ~u + 1;

  std::string out;
  if (u < 1'000'000'000) {
    if (u == 0) return "0s";
    int precision = 0;
    if (u < 1'000) {
      out = "ns";
    } else if (u < 1'000'000) {
      precision = 3;
      out = "\u00b5s";
    } else {
      precision = 6;
      out = "ms";
    }
    u = format_fraction(out, u, precision);
    format_integer(out, u);
  } else {
    out = "s";
    u = format_fraction(out, u, 9);
    format_integer(out, u % 60);
    u /= 60;
    if (u > 0) {
      out.insert(0, "m");
      format_integer(out, u % 60);
      u /= 60;
      if (u > 0) {
        out.insert(0, "h");
        format_integer(out, u);
      }
    }
  }
  if (negative) out.insert(0, "-");
  return out;
}

}  // namespace berth::config
