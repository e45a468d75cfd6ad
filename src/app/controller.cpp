#include "controller.hpp"

#include <malloc.h>

#include <chrono>

#include "berth/log/log.hpp"
#include "berth/tls/store.hpp"

namespace berth::app {

Controller::Controller(const config::StaticConfiguration& static_configuration, EntryPointPlan plan,
                       proxy::Server& proxy, std::vector<api::Server*> apis)
    : static_configuration_(static_configuration),
      plan_(std::move(plan)),
      proxy_(proxy),
      apis_(std::move(apis)),
      checker_(std::make_unique<health::Checker>(
          health_,
          [this] {
            // A server went up or down: serverStatus and the metrics show it at once.
            const std::lock_guard lock(mutex_);
            publish_api_state();
          },
          health::CheckerOptions{static_configuration.servers_transport.insecure_skip_verify,
                                 {}})) {}

void Controller::update(ProviderOutput output, std::vector<labels::ContainerDecision> containers) {
  const std::lock_guard lock(mutex_);
  if (output.provider == "docker") containers_ = std::move(containers);
  std::string provider = output.provider;
  outputs_.insert_or_assign(std::move(provider), std::move(output));
  apply();
}

void Controller::update_tls(const config::TlsConfiguration& tls) {
  tls::Store::Result result = tls::Store::build(tls);
  proxy_.set_tls(std::move(result.store));
  const std::lock_guard lock(mutex_);
  tls_errors_.clear();
  for (std::string& error : result.errors) {
    log::error("tls", "{}", error);
    tls_errors_.push_back(config::Diagnostic{
        config::ResourceKind::provider, "file", {}, std::move(error), config::Severity::error});
  }
}

void Controller::apply() {
  std::vector<ProviderOutput> outputs;
  outputs.reserve(outputs_.size());
  for (const auto& [provider, output] : outputs_) outputs.push_back(output);
  assembly_ = assemble(outputs);
  assembly_.diagnostics.insert(assembly_.diagnostics.end(), tls_errors_.begin(), tls_errors_.end());

  runtime::BuildOptions options;
  options.entry_points = plan_.proxied;
  options.default_entry_points = plan_.defaults;
  options.tls_entry_points = plan_.tls;
  options.health = &health_;
  options.chains =
      middleware::chain_factory(middleware::Environment{.registry = &middleware_state_});
  build_ = runtime::build_snapshot(assembly_.configuration, options);
  proxy_.publish(build_.snapshot);
  health_.prune();
  checker_->update(assembly_.configuration);
  middleware_state_.sweep();
  ++reloads_;
  applied_ = std::chrono::system_clock::now();

  // The API shows the configuration before the log says it is applied, so whoever waits for the
  // line finds it there.
  publish_api_state();
  for (const config::Diagnostic& error : build_.errors) {
    log::warn("runtime", "{}: {}", error.name, error.message);
  }
  log::info("controller", "configuration {} applied: {} routers, {} services, {} middlewares",
            reloads_, assembly_.configuration.http.routers.size(),
            assembly_.configuration.http.services.size(),
            assembly_.configuration.http.middlewares.size());
  // Reading and building a large configuration peaks far above what it keeps (parsed documents,
  // the previous snapshot): the freed pages go back to the system instead of staying resident.
  malloc_trim(0);
}

void Controller::publish_api_state() {
  if (apis_.empty()) return;
  auto state = std::make_shared<api::State>(
      make_api_state(static_configuration_, assembly_, build_, containers_));
  state->reloads = reloads_;
  state->updated = applied_;
  for (api::Server* api : apis_) api->update(state);
}

}  // namespace berth::app
