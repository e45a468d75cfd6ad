#pragma once
// Server state that must survive snapshot swaps (health, draining), keyed by server URL. Snapshots
// hold shared pointers into the registry; the data plane only reads the atomics, never takes the
// lock.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "berth/config/dynamic.hpp"

namespace berth::runtime {

/// A load balancer's passive health check with Traefik's defaults applied.
struct PassivePolicy {
  std::int64_t max_failed_attempts = 1;
  std::chrono::nanoseconds failure_window = std::chrono::seconds(10);
  friend bool operator==(const PassivePolicy&, const PassivePolicy&) = default;
};

struct ServerHealth {
  /// Active health checks (or a container stop) set this; a server that is down gets no new
  /// requests.
  std::atomic<bool> up{true};

  // Passive health check, shared by every worker. Times are steady_clock nanoseconds.
  /// Until when failed requests keep the server out; 0 when they do not.
  std::atomic<std::int64_t> passive_down_until{0};
  /// Consecutive failed requests since `first_failure`.
  std::atomic<std::int64_t> failures{0};
  std::atomic<std::int64_t> first_failure{0};

  /// Up for the active check and not taken out by failed requests. Reads the clock only while a
  /// passive check holds the server out.
  bool available() const noexcept;

  /// Taken out by failed requests (passive health check) for now.
  bool passive_out() const noexcept;

  /// Counts a request that failed at the transport level; true when this failure took the server
  /// out (for `policy.failure_window`, after `policy.max_failed_attempts` consecutive failures
  /// within that window).
  bool record_failure(const PassivePolicy& policy) noexcept;

  /// A request got an answer: the failures are no longer consecutive.
  void record_success() noexcept {
    if (failures.load(std::memory_order_relaxed) != 0) failures.store(0, std::memory_order_relaxed);
  }
};

class HealthRegistry {
 public:
  /// The state for `url`, created up on first use; the same object for every later snapshot.
  std::shared_ptr<ServerHealth> acquire(std::string_view url);

  /// The state for `url` if some snapshot uses it.
  std::shared_ptr<ServerHealth> find(std::string_view url) const;

  /// Marks a known server up or down; false when no snapshot knows `url`.
  bool set_up(std::string_view url, bool up);

  /// Forgets servers no snapshot references any more; returns how many were dropped.
  std::size_t prune();

  /// Every known server's state, by URL.
  std::vector<std::pair<std::string, std::shared_ptr<ServerHealth>>> entries() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ServerHealth>, std::less<>> entries_;
};

/// A load balancer's active health check with Traefik's defaults applied.
struct ActiveCheck {
  std::string scheme;  ///< "" keeps the server's
  std::string path;
  std::string method = "GET";
  std::int64_t status = 0;  ///< 0: any 2xx or 3xx
  std::uint16_t port = 0;   ///< 0 keeps the server's
  std::string hostname;     ///< the Host header when not empty
  std::chrono::nanoseconds interval = std::chrono::seconds(30);
  std::chrono::nanoseconds unhealthy_interval = std::chrono::seconds(30);
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);
  bool follow_redirects = true;
  config::StringMap headers;
  friend bool operator==(const ActiveCheck&, const ActiveCheck&) = default;
};

/// Applies the defaults, or says which option is wrong ("healthCheck.interval must be ...").
std::variant<ActiveCheck, std::string> resolve_health_check(const config::ServerHealthCheck& check);
std::variant<PassivePolicy, std::string> resolve_passive_health_check(
    const config::PassiveHealthCheck& check);

}  // namespace berth::runtime
