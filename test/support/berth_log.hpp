#pragma once
// What a berth started as a child process says in its log.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "support/process.hpp"

namespace berth::test {

/// The port berth logs having bound for entry point `name`.
inline std::uint16_t entry_point_port(ChildProcess& berth, const std::string& name) {
  auto line =
      berth.read_until_contains("entry point " + name + " listening", std::chrono::seconds{10});
  REQUIRE(line);
  const auto at = line->find("(port ");
  REQUIRE(at != std::string::npos);
  return static_cast<std::uint16_t>(std::stoi(line->substr(at + 6)));
}

}  // namespace berth::test
