// The dashboard in headless Chromium, driven over the DevTools protocol: the page's JavaScript must
// fetch the API, render what the State holds, follow /api/events without reloading, and throw no
// errors. Chromium is installed by scripts/install-deps.sh: its absence is a failure, not a skip.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "berth/api/server.hpp"
#include "fixture.hpp"
#include "support/chromium.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

TEST_CASE("the dashboard renders the State and follows updates live in Chromium") {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.version = VersionInfo{"1.2.3", "test", {}};
  Server server{options};
  const State initial = test::fixture_state();
  server.update(std::make_shared<const State>(initial));
  server.start();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/dashboard/";

  auto opened = berth::test::ChromiumPage::open(url);
  REQUIRE(opened);
  berth::test::ChromiumPage& page = *opened;
  REQUIRE(page.call("Runtime.enable"));

  // The first render, from the API.
  REQUIRE(
      page.wait_until("document.querySelector('#routers .body').innerText"
                      ".includes('whoami@docker')"));
  const std::string html = page.evaluate("document.documentElement.outerHTML");
  for (const char* expected :
       {"whoami@docker", "Host(`a.example`)", "rule: unterminated string", "ghost@docker",
        "http://172.18.0.3:80", "DRAINING", "cookie sid, secure", "basicauth", "prefix looks odd",
        "whoami-1", "traefik.enable=false", "websecure", "1.2.3 (test)"}) {
    CAPTURE(expected);
    CHECK(html.find(expected) != std::string::npos);
  }
  CHECK(page.wait_until("document.getElementById('live').className === 'on'"));
  // Messages are text on the page's background, whatever their severity.
  CHECK(page.evaluate("Array.from(document.querySelectorAll('.errors li')).every(li => "
                      "getComputedStyle(li).backgroundColor === 'rgba(0, 0, 0, 0)')") == true);
  CHECK(page.evaluate("document.querySelectorAll('.errors li.warning').length") == 2);

  // A change arrives over /api/events and is rendered without reloading the page.
  page.evaluate("window.berthMarker = 42");
  State next = initial;
  config::Router added;
  added.rule = "Host(`added.example`)";
  added.service = "whoami";
  next.configuration.http.routers["added@docker"] = added;
  next.server_status["http://172.18.0.3:80"] = "DOWN";
  server.update(std::make_shared<const State>(next));
  CHECK(
      page.wait_until("document.querySelector('#routers .body').innerText"
                      ".includes('Host(`added.example`)')"));
  CHECK(page.wait_until("document.querySelector('#services .body').innerText.includes('DOWN')"));
  CHECK(page.evaluate("window.berthMarker") == 42);

  const std::filesystem::path screenshot =
      std::filesystem::path{BERTH_SCREENSHOT_DIR} / "dashboard.png";
  const auto png = page.screenshot_png();
  REQUIRE(png);
  CHECK(png->size() > 10000);
  std::ofstream{screenshot, std::ios::binary} << *png;

  // No uncaught exception and no console error at any point.
  page.call("Runtime.evaluate", {{"expression", "0"}});
  for (const json& event : page.events()) {
    const std::string method = event.value("method", "");
    CAPTURE(event.dump());
    CHECK(method != "Runtime.exceptionThrown");
    if (method == "Runtime.consoleAPICalled") CHECK(event["params"].value("type", "") != "error");
  }

  CHECK(page.close());
  server.stop();
}

}  // namespace
}  // namespace berth::api
