#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "berth/log/log.hpp"

namespace {

std::vector<std::string> captured;
void capture(std::string_view line) {
  captured.emplace_back(line);
}

struct Capture {
  Capture() {
    captured.clear();
    berth::log::set_sink(&capture);
  }
  ~Capture() {
    berth::log::set_sink(nullptr);
    berth::log::configure(berth::log::Level::error, berth::log::Format::common);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
};

}  // namespace

TEST_CASE("Traefik's level names parse in any case, PANIC as fatal") {
  using berth::log::Level;
  const std::vector<std::pair<std::string, Level>> table = {
      {"TRACE", Level::trace}, {"debug", Level::debug}, {"Info", Level::info},
      {"WARN", Level::warn},   {"error", Level::error}, {"FATAL", Level::fatal},
      {"panic", Level::fatal}};
  for (const auto& [text, expected] : table) {
    Level level = Level::trace;
    INFO(text);
    REQUIRE(berth::log::parse_level(text, level));
    CHECK(level == expected);
  }
  Level level = Level::trace;
  CHECK_FALSE(berth::log::parse_level("verbose", level));
  CHECK_FALSE(berth::log::parse_level("", level));
}

TEST_CASE("messages below the configured level are dropped") {
  Capture capture_lines;
  berth::log::configure(berth::log::Level::warn, berth::log::Format::common);
  berth::log::info("docker", "dropped {}", 1);
  berth::log::warn("docker", "kept {}", 2);
  berth::log::error("proxy", "kept {}", 3);
  REQUIRE(captured.size() == 2);
  CHECK(captured[0].find(" WRN docker: kept 2\n") != std::string::npos);
  CHECK(captured[1].find(" ERR proxy: kept 3\n") != std::string::npos);
}

TEST_CASE("the json format writes one object per line") {
  Capture capture_lines;
  berth::log::configure(berth::log::Level::info, berth::log::Format::json);
  berth::log::info("api", "quote \" and \xff invalid utf-8");
  REQUIRE(captured.size() == 1);
  REQUIRE(captured[0].back() == '\n');
  const auto object = nlohmann::json::parse(captured[0]);
  CHECK(object.at("level") == "info");
  CHECK(object.at("component") == "api");
  CHECK(object.at("message").get<std::string>().rfind("quote \" and ", 0) == 0);
  CHECK(object.at("time").get<std::string>().size() == 24);  // 2026-11-26T05:00:00.000Z
}
