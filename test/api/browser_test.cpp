// The dashboard in headless Chromium, driven over the DevTools protocol: the page's JavaScript must
// fetch the API, render what the State holds, follow /api/events without reloading, and throw no
// errors. (--dump-dom with --virtual-time-budget cannot be used: virtual time never advances while
// the endless /api/events request is open.) Chromium is installed by scripts/install-deps.sh: its
// absence is a failure, not a skip.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "berth/api/server.hpp"
#include "fixture.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace berth::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string find_chromium() {
  for (const char* name : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(name, X_OK) == 0) return name;
  }
  return {};
}

std::string base64_decode(std::string_view text) {
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) continue;
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFFU);
    }
  }
  return out;
}

/// A DevTools protocol session on one page: calls, with the events that arrive in between kept.
class Cdp {
 public:
  explicit Cdp(berth::test::WebSocketClient socket) : socket_(std::move(socket)) {}

  json call(const std::string& method, json params = json::object()) {
    const int id = next_id_++;
    REQUIRE(socket_.send(json{{"id", id}, {"method", method}, {"params", params}}.dump()));
    while (true) {
      auto message = socket_.receive();
      REQUIRE(message);
      json parsed = json::parse(*message);
      if (parsed.value("id", 0) != id) {
        events_.push_back(std::move(parsed));
        continue;
      }
      INFO(method << ": " << parsed.dump());
      REQUIRE(parsed.contains("result"));
      return parsed["result"];
    }
  }

  json evaluate(const std::string& expression) {
    return call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}})["result"]
        .value("value", json{});
  }

  /// Polls `expression` until it is true.
  bool wait_until(const std::string& expression, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (evaluate(expression) == true) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  const std::vector<json>& events() const { return events_; }

 private:
  berth::test::WebSocketClient socket_;
  std::vector<json> events_;
  int next_id_ = 1;
};

/// The page target's DevTools WebSocket path, from the browser's /json/list.
std::string page_path(std::uint16_t port, const std::string& url) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = berth::test::http_get("127.0.0.1", port, "/json/list");
    if (list && list->status == 200) {
      for (const json& target : json::parse(list->body)) {
        if (target.value("type", "") == "page" && target.value("url", "") == url) {
          const std::string ws = target.value("webSocketDebuggerUrl", "");
          return ws.substr(ws.find('/', std::string_view{"ws://"}.size()));
        }
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  return {};
}

TEST_CASE("the dashboard renders the State and follows updates live in Chromium") {
  const std::string chromium = find_chromium();
  INFO("chromium is missing: run scripts/install-deps.sh");
  REQUIRE_FALSE(chromium.empty());

  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.version = VersionInfo{"1.2.3", "test", {}};
  Server server{options};
  const State initial = test::fixture_state();
  server.update(std::make_shared<const State>(initial));
  server.start();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/dashboard/";

  char profile_template[] = "/tmp/berth-chromium-XXXXXX";
  REQUIRE(::mkdtemp(profile_template) != nullptr);
  const std::filesystem::path profile{profile_template};
  const std::string command = "exec " + chromium +
                              " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                              " --no-first-run --remote-debugging-port=0"
                              " --remote-allow-origins='*' --window-size=1400,1800"
                              " --user-data-dir=" +
                              profile.string() + " " + url + " 2>&1";
  auto browser = berth::test::ChildProcess::start("/bin/sh", {"-c", command});
  REQUIRE(browser);
  auto listening = browser->read_until("DevTools listening on ws://127.0.0.1:", 30s);
  REQUIRE(listening);
  const auto devtools_port = static_cast<std::uint16_t>(std::stoi(*listening));
  const std::string path = page_path(devtools_port, url);
  REQUIRE_FALSE(path.empty());
  auto socket = berth::test::WebSocketClient::connect("127.0.0.1", devtools_port, path, 10s);
  REQUIRE(socket);
  Cdp page{std::move(*socket)};
  page.call("Runtime.enable");

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
  const json shot = page.call("Page.captureScreenshot", {{"format", "png"}});
  const std::string png = base64_decode(shot.value("data", ""));
  CHECK(png.size() > 10000);
  std::ofstream{screenshot, std::ios::binary} << png;

  // No uncaught exception and no console error at any point.
  page.call("Runtime.evaluate", {{"expression", "0"}});
  for (const json& event : page.events()) {
    const std::string method = event.value("method", "");
    CAPTURE(event.dump());
    CHECK(method != "Runtime.exceptionThrown");
    if (method == "Runtime.consoleAPICalled") CHECK(event["params"].value("type", "") != "error");
  }

  page.call("Browser.close");
  CHECK(browser->wait(10s));
  server.stop();
  std::filesystem::remove_all(profile);
}

}  // namespace
}  // namespace berth::api
