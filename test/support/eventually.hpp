#pragma once
// Waiting in tests for something another thread or process brings about.

#include <chrono>
#include <functional>
#include <thread>

namespace berth::test {

/// Polls `condition` every `interval` until it holds or `timeout` passes, then asks a last time.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds{5},
                       std::chrono::milliseconds interval = std::chrono::milliseconds{20}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

}  // namespace berth::test
