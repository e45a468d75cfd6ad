#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "berth/rules/rule.hpp"

using berth::rules::has_valid_percent_encoding;
using berth::rules::IpAddress;
using berth::rules::routing_host;
using Bytes = std::array<std::uint8_t, 16>;
using namespace std::string_view_literals;

namespace {

struct Parsed {
  std::string_view text;
  std::optional<Bytes> bytes;  ///< nullopt: not an address
  bool is_v4 = false;
};

constexpr Bytes v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, a, b, c, d};
}

}  // namespace

TEST_CASE("IpAddress::parse reads IPv4 and IPv6 text forms") {
  constexpr Bytes loopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  constexpr Bytes link_local{0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  constexpr Bytes doc{0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xAB, 0xCD};
  const auto row = GENERATE_COPY(values<Parsed>({
      {"10.0.0.1", v4(10, 0, 0, 1), true},
      {"255.255.255.255", v4(255, 255, 255, 255), true},
      {"0.0.0.0", v4(0, 0, 0, 0), true},
      {"::1", loopback6, false},
      {"[::1]", loopback6, false},
      {"fe80::1%eth0", link_local, false},
      {"[fe80::1%25eth0]", link_local, false},
      {"2001:DB8::ABCD", doc, false},
      {"::ffff:192.0.2.1", v4(192, 0, 2, 1), true},
      {"", std::nullopt},
      {"[]", std::nullopt},
      {"10.0.0", std::nullopt},
      {"10.0.0.256", std::nullopt},
      {"01.2.3.4", std::nullopt},
      {"1.2.3.4 ", std::nullopt},
      {"1.2.3.4%eth0", std::nullopt},
      {"fe80::1%", std::nullopt},
      {"::g", std::nullopt},
      {"[::1", std::nullopt},
      {"1:2:3:4:5:6:7:8:9", std::nullopt},
      {"localhost", std::nullopt},
      {"1.2.3.4\0"sv, std::nullopt},
      {"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd", std::nullopt},
  }));
  CAPTURE(row.text);
  const auto parsed = IpAddress::parse(row.text);
  REQUIRE(parsed.has_value() == row.bytes.has_value());
  if (parsed) {
    CHECK(parsed->bytes == *row.bytes);
    CHECK(parsed->is_v4 == row.is_v4);
  }
}

TEST_CASE("an IPv4-mapped IPv6 address equals its IPv4 address") {
  CHECK(IpAddress::parse("::ffff:10.1.2.3") == IpAddress::parse("10.1.2.3"));
  CHECK(IpAddress::parse("::1") != IpAddress::parse("127.0.0.1"));
}

TEST_CASE("routing_host strips the port, brackets, blanks and one trailing dot") {
  struct Row {
    std::string_view host;
    std::string_view expected;
  };
  const auto row = GENERATE(values<Row>({
      {"a.example", "a.example"},
      {"A.Example:8080", "A.Example"},
      {"a.example.", "a.example"},
      {"a.example.:443", "a.example"},
      {"a.example:", "a.example"},
      {" a.example ", "a.example"},
      {"[::1]:80", "::1"},
      {"[::1]", "::1"},
      {"::1", "::1"},
      {"[::1]x", "[::1]x"},
      {"a:b:c", "a:b:c"},
      {"", ""},
      {".", ""},
  }));
  CAPTURE(row.host);
  CHECK(routing_host(row.host) == row.expected);
}

TEST_CASE("has_valid_percent_encoding finds broken escapes") {
  CHECK(has_valid_percent_encoding("/"));
  CHECK(has_valid_percent_encoding("/a%20b%2F%2f"));
  CHECK_FALSE(has_valid_percent_encoding("/a%2"));
  CHECK_FALSE(has_valid_percent_encoding("/a%zz"));
  CHECK_FALSE(has_valid_percent_encoding("/%"));
  CHECK_FALSE(has_valid_percent_encoding("/%%41"));
}
