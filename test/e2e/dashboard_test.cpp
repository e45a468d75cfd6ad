// The dashboard of a running berth in headless Chromium: replicas started and stopped as
// `docker compose up --scale` would appear on the open page without a reload.

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "docker_cli.hpp"
#include "e2e_support.hpp"
#include "support/chromium.hpp"

namespace {

using berth::e2e::app_labels;
using berth::e2e::Berth;
using berth::e2e::docker;
using berth::e2e::Sandbox;
using berth::e2e::start_berth;
using berth::test::ChromiumPage;
using namespace std::chrono_literals;

/// What the page's services table shows for app@docker: "<n> servers, <m> UP", or "absent".
const std::string app_servers_shown = R"JS((() => {
  const row = Array.from(document.querySelectorAll('#services tbody tr')).find(
      tr => (tr.cells[1].querySelector('code') || {}).textContent === 'app@docker');
  if (!row) return 'absent';
  const servers = row.cells[3].querySelectorAll('ul.servers li').length;
  const up = row.cells[3].querySelectorAll('ul.servers li .badge.UP').length;
  return servers + ' servers, ' + up + ' UP';
})())JS";

/// Polls the page until it shows `expected` for app@docker; the CHECK prints what it shows, and
/// berth's log.
void check_page_shows(ChromiumPage& page, const Berth& berth, const std::string& expected,
                      std::chrono::milliseconds timeout) {
  page.wait_until(app_servers_shown + " === '" + expected + "'", timeout);
  const nlohmann::json shown = page.evaluate(app_servers_shown);
  if (shown != expected) {
    const auto logs = docker({"logs", berth.container});
    INFO("berth's log:\n" << (logs ? *logs : logs.error()));
    INFO("the page's requests and console:\n" << nlohmann::json(page.events()).dump(1));
    CHECK(shown == expected);
  }
}

}  // namespace

TEST_CASE("the dashboard follows a service scaled 1 -> 3 -> 2 without reloading") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("e2e" + sandbox.label().substr(sandbox.label().find('=') + 1));
  const std::string first = sandbox.start_app("one", labels);

  auto opened = ChromiumPage::open("http://127.0.0.1:" + std::to_string(berth.api) + "/dashboard/",
                                   "1400,1250");
  REQUIRE(opened);
  ChromiumPage& page = *opened;
  REQUIRE(page.call("Runtime.enable"));
  REQUIRE(page.call("Network.enable"));
  // Discovery of the first replica may take berth a moment after its start.
  check_page_shows(page, berth, "1 servers, 1 UP", 20s);
  REQUIRE(page.wait_until("document.getElementById('live').className === 'on'"));
  // Gone if the page reloads: the new servers must come over /api/events.
  page.evaluate("window.berthMarker = 42");

  sandbox.start_app("two", labels);
  sandbox.start_app("three", labels);
  check_page_shows(page, berth, "3 servers, 3 UP", 5s);
  const auto png = page.screenshot_png();
  REQUIRE(png);
  CHECK(png->size() > 10000);
  if (const char* path = std::getenv("BERTH_DASHBOARD_SCREENSHOT")) {
    std::ofstream{path, std::ios::binary} << *png;
  }

  REQUIRE(docker({"stop", "-t", "5", first}));
  check_page_shows(page, berth, "2 servers, 2 UP", 5s);
  CHECK(page.evaluate("window.berthMarker") == 42);

  // No uncaught exception and no console error at any point.
  page.evaluate("0");
  for (const nlohmann::json& event : page.events()) {
    const std::string method = event.value("method", "");
    CAPTURE(event.dump());
    CHECK(method != "Runtime.exceptionThrown");
    if (method == "Runtime.consoleAPICalled") CHECK(event["params"].value("type", "") != "error");
  }
  CHECK(page.close());
}
