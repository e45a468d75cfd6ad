#pragma once
// The retry middleware as a policy: the proxy asks it after a failed attempt and re-sends.

#include <chrono>
#include <cstdint>
#include <optional>

namespace berth::middleware {

class RetryPolicy {
 public:
  /// `attempts`: total tries (Traefik counts the first). `initial_interval`: the first wait.
  RetryPolicy(std::int64_t attempts, std::chrono::nanoseconds initial_interval);

  /// After attempt number `attempt` (1 for the first try) failed: the wait before the next try, or
  /// nullopt to give up. Traefik retries only network errors (the backend gave no response), and
  /// never once any of the response reached the client.
  std::optional<std::chrono::nanoseconds> should_retry(std::int64_t attempt, bool network_error,
                                                       bool response_started) const;

  std::int64_t attempts() const noexcept { return attempts_; }

 private:
  std::int64_t attempts_;
  std::chrono::nanoseconds initial_interval_;
  double multiplier_;
};

}  // namespace berth::middleware
