#pragma once
// Headless Chromium with one page, driven over the DevTools protocol: evaluate JavaScript in the
// page, poll the DOM, take screenshots. (--dump-dom with --virtual-time-budget cannot test a live
// page: virtual time never advances while an endless request such as /api/events is open.)

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/result.hpp"

namespace berth::test {

/// The Chromium binary of Debian's `chromium` package (installed by scripts/install-deps.sh), or
/// an empty string when it is missing.
auto find_chromium() -> std::string;

/// A headless Chromium (own temporary profile) with one page open; the destructor kills the
/// browser and removes the profile.
class ChromiumPage {
 public:
  /// Starts Chromium on `url` and connects to that page's DevTools WebSocket.
  static auto open(const std::string& url, const std::string& window_size = "1400,1800",
                   std::chrono::milliseconds timeout = std::chrono::seconds{30})
      -> Result<ChromiumPage>;

  ChromiumPage(ChromiumPage&&) noexcept;
  auto operator=(ChromiumPage&&) noexcept -> ChromiumPage&;
  ChromiumPage(const ChromiumPage&) = delete;
  auto operator=(const ChromiumPage&) -> ChromiumPage& = delete;
  ~ChromiumPage();

  /// One protocol call: its "result" object; the events that arrive meanwhile are kept.
  auto call(const std::string& method, nlohmann::json params = nlohmann::json::object())
      -> Result<nlohmann::json>;

  /// The value of `expression` evaluated in the page; null when the call fails, so comparisons
  /// with an expected value fail too.
  auto evaluate(const std::string& expression) -> nlohmann::json;

  /// Polls `expression` every 50 ms until it evaluates to true.
  auto wait_until(const std::string& expression,
                  std::chrono::milliseconds timeout = std::chrono::seconds{10}) -> bool;

  /// The page as a PNG image (the bytes, decoded).
  auto screenshot_png() -> Result<std::string>;

  /// The protocol events received so far (e.g. Runtime.exceptionThrown after Runtime.enable).
  auto events() const -> const std::vector<nlohmann::json>&;

  /// Asks the browser to close and waits for it to exit.
  auto close(std::chrono::milliseconds timeout = std::chrono::seconds{10}) -> Status;

 private:
  struct State;
  explicit ChromiumPage(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace berth::test
