#pragma once
// Server state that must survive snapshot swaps (health, draining), keyed by server URL. Snapshots
// hold shared pointers into the registry; the data plane only reads the atomics, never takes the
// lock.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace berth::runtime {

struct ServerHealth {
  /// Health checks (or a container stop) set this; a server that is down gets no new requests.
  std::atomic<bool> up{true};
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

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ServerHealth>, std::less<>> entries_;
};

}  // namespace berth::runtime
