#pragma once
// The control plane: keeps each provider's latest output, and on every change merges them, builds a
// new runtime snapshot, hands it to the proxy's workers and shows it in the API. Providers call in
// from their own threads; a mutex serialises rebuilds (they are rare and take milliseconds).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "assemble.hpp"
#include "berth/api/server.hpp"
#include "berth/config/static.hpp"
#include "berth/config/tls.hpp"
#include "berth/health/checker.hpp"
#include "berth/middleware/chain.hpp"
#include "berth/proxy/server.hpp"
#include "berth/runtime/health.hpp"

namespace berth::app {

class Controller {
 public:
  /// Every applied configuration is shown by each of `apis` (the `traefik` entry point's server
  /// and the internal one behind api@internal; either may be absent).
  Controller(const config::StaticConfiguration& static_configuration, EntryPointPlan plan,
             proxy::Server& proxy, std::vector<api::Server*> apis);

  /// Replaces one provider's output and applies the result. `containers` are the Docker provider's
  /// decisions (empty for other providers).
  void update(ProviderOutput output, std::vector<labels::ContainerDecision> containers = {});

  /// Loads the certificates and TLS options of the file provider and hands them to the proxy;
  /// what cannot be loaded is left out and shown as a provider diagnostic.
  void update_tls(const config::TlsConfiguration& tls);

  /// Stops the active health checks (at shutdown, before the API stops).
  void stop_health_checks() { checker_->stop(); }

 private:
  void apply();
  /// Hands the API the last applied configuration with the servers' current states.
  void publish_api_state();

  const config::StaticConfiguration& static_configuration_;
  const EntryPointPlan plan_;
  proxy::Server& proxy_;
  const std::vector<api::Server*> apis_;
  runtime::HealthRegistry health_;
  /// Rate-limit buckets, in-flight counts and breakers, kept while a middleware stays unchanged.
  middleware::StateRegistry middleware_state_;

  std::mutex mutex_;
  std::map<std::string, ProviderOutput> outputs_;
  std::vector<labels::ContainerDecision> containers_;
  config::Diagnostics tls_errors_;
  std::uint64_t reloads_ = 0;
  Assembly assembly_;
  runtime::BuildResult build_;
  std::chrono::system_clock::time_point applied_;
  /// Last, so that it stops (and calls back no more) before anything it calls back into goes.
  std::unique_ptr<health::Checker> checker_;
};

}  // namespace berth::app
