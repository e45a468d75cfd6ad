#pragma once
// Active health checks: every server of a load balancer that has a healthCheck is probed over HTTP
// on the checker's own thread; the result goes to the shared HealthRegistry, which the data plane
// reads. Unlike Traefik, a server is probed as soon as it appears, and a configuration swap that
// keeps a server and its check keeps its state and its timer.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "berth/config/dynamic.hpp"
#include "berth/runtime/health.hpp"

namespace berth::health {

struct CheckerOptions {
  /// For https probes, as the servers transport's (insecureSkipVerify, rootCAs).
  bool insecure_skip_verify = false;
  std::vector<std::string> root_cas;
  /// How often servers taken out (or let back in) by passive health checks are looked for, so
  /// that on_change tells about them too.
  std::chrono::milliseconds passive_scan = std::chrono::milliseconds(500);
};

class Checker {
 public:
  /// Called on the checker's thread after a server went up or down (active or passive check).
  using OnChange = std::function<void()>;

  /// Starts the thread; throws std::invalid_argument when a root CA cannot be loaded.
  Checker(runtime::HealthRegistry& registry, OnChange on_change, CheckerOptions options = {});
  /// Stops every probe and joins the thread; no on_change call follows.
  ~Checker();
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;
  Checker(Checker&&) = delete;
  Checker& operator=(Checker&&) = delete;

  /// Probes the servers of every load balancer of `configuration` (qualified names) that has a
  /// valid healthCheck: new ones at once, unchanged ones on their running schedule; servers no
  /// longer there stop being probed. Returns at once; the probes run on the checker's thread.
  void update(const config::Configuration& configuration);

  /// Stops probing; idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::health
