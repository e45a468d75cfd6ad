#include "support/chromium.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace berth::test {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

auto base64_decode(std::string_view text) -> std::string {
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

/// The page target's DevTools WebSocket path, from the browser's /json/list.
auto page_path(std::uint16_t port, const std::string& url, std::chrono::milliseconds timeout)
    -> Result<std::string> {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = http_get("127.0.0.1", port, "/json/list");
    if (list && list->status == 200) {
      for (const json& target : json::parse(list->body, nullptr, false)) {
        if (target.value("type", "") == "page" && target.value("url", "") == url) {
          const std::string ws = target.value("webSocketDebuggerUrl", "");
          return ws.substr(ws.find('/', std::string_view{"ws://"}.size()));
        }
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  return Result<std::string>::failure("no DevTools page target for " + url);
}

/// A temporary directory, removed on destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  auto operator=(const TempDir&) -> TempDir& = delete;
  TempDir(TempDir&&) = delete;
  auto operator=(TempDir&&) -> TempDir& = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

auto find_chromium() -> std::string {
  for (const char* name : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(name, X_OK) == 0) return name;
  }
  return {};
}

struct ChromiumPage::State {
  // Declared first so it is removed last, after the browser has been killed.
  TempDir profile;
  std::optional<ChildProcess> browser;
  std::optional<WebSocketClient> socket;
  std::vector<json> events;
  int next_id = 1;
};

ChromiumPage::ChromiumPage(std::unique_ptr<State> state) : state_(std::move(state)) {}
ChromiumPage::ChromiumPage(ChromiumPage&&) noexcept = default;
auto ChromiumPage::operator=(ChromiumPage&&) noexcept -> ChromiumPage& = default;
ChromiumPage::~ChromiumPage() = default;

auto ChromiumPage::open(const std::string& url, const std::string& window_size,
                        std::chrono::milliseconds timeout) -> Result<ChromiumPage> {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    return Result<ChromiumPage>::failure("chromium is missing: run scripts/install-deps.sh");
  }
  auto state = std::make_unique<State>();
  std::string profile_template = "/tmp/berth-chromium-XXXXXX";
  if (::mkdtemp(profile_template.data()) == nullptr) {
    return Result<ChromiumPage>::failure("cannot create a Chromium profile directory");
  }
  state->profile.path = profile_template;

  auto browser = ChildProcess::start(
      chromium,
      {"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
       "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=" + window_size,
       "--user-data-dir=" + state->profile.path.string(), url},
      {}, ChildProcess::Stderr::capture);
  if (!browser) return Result<ChromiumPage>::failure(browser.error());
  state->browser.emplace(std::move(*browser));
  // Chromium logs where its DevTools server listens; port 0 lets it pick a free one.
  auto listening = state->browser->read_until("DevTools listening on ws://127.0.0.1:", timeout);
  if (!listening) {
    return Result<ChromiumPage>::failure(listening.error() +
                                         "; output: " + state->browser->output());
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(*listening));
  auto path = page_path(port, url, timeout);
  if (!path) return Result<ChromiumPage>::failure(path.error());
  auto socket = WebSocketClient::connect("127.0.0.1", port, *path, timeout);
  if (!socket) return Result<ChromiumPage>::failure("DevTools WebSocket: " + socket.error());
  state->socket.emplace(std::move(*socket));
  return ChromiumPage{std::move(state)};
}

auto ChromiumPage::call(const std::string& method, json params) -> Result<json> {
  const int id = state_->next_id++;
  auto sent = state_->socket->send(
      json{{"id", id}, {"method", method}, {"params", std::move(params)}}.dump());
  if (!sent) return Result<json>::failure(method + ": " + sent.error());
  while (true) {
    auto message = state_->socket->receive();
    if (!message) return Result<json>::failure(method + ": " + message.error());
    json parsed = json::parse(*message, nullptr, false);
    if (!parsed.is_object()) return Result<json>::failure(method + ": not JSON: " + *message);
    if (parsed.value("id", 0) != id) {
      state_->events.push_back(std::move(parsed));
      continue;
    }
    if (!parsed.contains("result")) return Result<json>::failure(method + ": " + parsed.dump());
    return parsed["result"];
  }
}

auto ChromiumPage::evaluate(const std::string& expression) -> json {
  auto result = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
  if (!result) return nullptr;
  return (*result)["result"].value("value", json{});
}

auto ChromiumPage::wait_until(const std::string& expression, std::chrono::milliseconds timeout)
    -> bool {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (evaluate(expression) == true) return true;
    std::this_thread::sleep_for(50ms);
  }
  return evaluate(expression) == true;
}

auto ChromiumPage::screenshot_png() -> Result<std::string> {
  auto shot = call("Page.captureScreenshot", {{"format", "png"}});
  if (!shot) return Result<std::string>::failure(shot.error());
  return base64_decode(shot->value("data", ""));
}

auto ChromiumPage::events() const -> const std::vector<json>& {
  return state_->events;
}

auto ChromiumPage::close(std::chrono::milliseconds timeout) -> Status {
  auto closed = call("Browser.close");
  if (!closed) return Status::failure(closed.error());
  auto exited = state_->browser->wait(timeout);
  if (!exited) return Status::failure("Chromium " + exited.error());
  return std::monostate{};
}

}  // namespace berth::test
