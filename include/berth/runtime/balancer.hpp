#pragma once
// Worker-local balancing state for one snapshot (Envoy-style): each worker creates its own Balancer
// when a snapshot arrives, so picking never takes a lock. Smooth weighted round robin (nginx) over
// servers that are up, nested weighted services, and Traefik sticky cookies.

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "berth/rules/rule.hpp"
#include "berth/runtime/snapshot.hpp"

namespace berth::runtime {

struct CookieToSet {
  const StickyCookie* cookie = nullptr;
  std::string_view value;  ///< points into the snapshot
};

struct Pick {
  const ServerTarget* server = nullptr;  ///< null: no available server
  const ServiceNode* service = nullptr;  ///< the load balancer the server belongs to
  std::array<CookieToSet, 4> cookies{};  ///< one per sticky level that must be (re)set
  std::size_t cookie_count = 0;
};

class Balancer {
 public:
  explicit Balancer(std::shared_ptr<const Snapshot> snapshot);

  /// Picks a server of `service` for a request, honouring its sticky cookies (looked up in the
  /// request's Cookie headers). Not thread-safe: one Balancer per worker.
  Pick pick(std::size_t service, const rules::RequestView& request);

  const Snapshot& snapshot() const noexcept { return *snapshot_; }
  const std::shared_ptr<const Snapshot>& shared_snapshot() const noexcept { return snapshot_; }

 private:
  bool available(std::size_t service) const noexcept;
  const ServerTarget* pick_in(std::size_t service, const rules::RequestView& request, Pick& out,
                              int depth);
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::vector<std::int64_t>> current_;  ///< smooth WRR state per service, per member
};

}  // namespace berth::runtime
