#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "berth/config/duration.hpp"

using berth::config::Duration;
using berth::config::format_duration;
using berth::config::parse_duration;
using namespace std::chrono_literals;

namespace {

struct Parsed {
  const char* text;
  Duration expected;
};

}  // namespace

// Expected values are Go's time.ParseDuration results (src/time/time_test.go).
TEST_CASE("parse_duration reads Go durations") {
  const auto row = GENERATE(values<Parsed>({
      {"0", 0s},
      {"5s", 5s},
      {"30s", 30s},
      {"1478s", 1478s},
      {"-5s", -5s},
      {"+5s", 5s},
      {"-0", 0s},
      {"+0", 0s},
      {"5.0s", 5s},
      {"5.6s", 5600ms},
      {"5.s", 5s},
      {".5s", 500ms},
      {"1.004s", 1004ms},
      {"1.0040s", 1004ms},
      {"100.00100s", 100001ms},
      {"10ns", 10ns},
      {"11us", 11us},
      {"12\u00b5s", 12us},
      {"12\u03bcs", 12us},
      {"13ms", 13ms},
      {"14s", 14s},
      {"15m", 15min},
      {"16h", 16h},
      {"3h30m", 3h + 30min},
      {"10.5s4m", 4min + 10500ms},
      {"-2m3.4s", -(2min + 3400ms)},
      {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
      {"39h9m14.425s", 39h + 9min + 14425ms},
      {"52763797000ns", 52763797000ns},
      {"0.3333333333333333333h", 20min},
      {"9007199254740993ns", Duration{9007199254740993}},
      {"9223372036854775807ns", Duration{std::numeric_limits<std::int64_t>::max()}},
      {"9223372036854775.807us", Duration{std::numeric_limits<std::int64_t>::max()}},
      {"-9223372036854775808ns", Duration{std::numeric_limits<std::int64_t>::min()}},
      {"0.100000000000000000000h", 6min},
      {"0.830103483285477580700h", 49min + 48s + 372539827ns},
  }));
  CAPTURE(row.text);
  CHECK(parse_duration(row.text) == row.expected);
}

TEST_CASE("parse_duration reads plain integers as seconds, as Traefik does") {
  CHECK(parse_duration("3") == 3s);
  CHECK(parse_duration("-7") == -7s);
  CHECK(parse_duration("+10") == 10s);
  CHECK(parse_duration("9223372036") == 9223372036s);
  CHECK_FALSE(parse_duration("9223372037").has_value());
}

TEST_CASE("parse_duration rejects what Go rejects") {
  const char* text = GENERATE("", "-", "+", "s", ".", "-.", ".s", "+.s", "1d", "1.5", "\x85\x85",
                              "\xff\xff", "hello \xff world", "1s ", " 1s", "1sm", "1e3s",
                              "9223372036854775808ns", "9223372036854775.808us",
                              "9223372036854ms775us808ns", "-9223372036854775809ns", "3000000h");
  CAPTURE(text);
  CHECK_FALSE(parse_duration(text).has_value());
}

namespace {

struct Formatted {
  Duration value;
  const char* expected;
};

}  // namespace

// Expected strings are Go's time.Duration.String() results.
TEST_CASE("format_duration writes Go durations") {
  const auto row = GENERATE(values<Formatted>({
      {0s, "0s"},
      {1ns, "1ns"},
      {1100ns, "1.1\u00b5s"},
      {2200us, "2.2ms"},
      {3300ms, "3.3s"},
      {4min + 5s, "4m5s"},
      {4min + 5001ms, "4m5.001s"},
      {5h + 6min + 7001ms, "5h6m7.001s"},
      {8min + 1ns, "8m0.000000001s"},
      {100ms, "100ms"},
      {1h, "1h0m0s"},
      {90s, "1m30s"},
      {-1s, "-1s"},
      {-1500us, "-1.5ms"},
      {Duration{std::numeric_limits<std::int64_t>::max()}, "2562047h47m16.854775807s"},
      {Duration{std::numeric_limits<std::int64_t>::min()}, "-2562047h47m16.854775808s"},
  }));
  CAPTURE(row.expected);
  CHECK(format_duration(row.value) == row.expected);
}

TEST_CASE("format_duration output parses back to the same value") {
  const auto value = GENERATE(as<Duration>{}, 0ns, 1ns, 999ns, 1us, 1234567ns, 59s, 61min,
                              -3h - 1ns, 123456789012345ns);
  CHECK(parse_duration(format_duration(value)) == value);
}
