#include "controller.hpp"

#include <chrono>

#include "berth/log/log.hpp"
#include "berth/tls/store.hpp"

namespace berth::app {

Controller::Controller(const config::StaticConfiguration& static_configuration, EntryPointPlan plan,
                       proxy::Server& proxy, std::vector<api::Server*> apis)
    : static_configuration_(static_configuration),
      plan_(std::move(plan)),
      proxy_(proxy),
      apis_(std::move(apis)) {}

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
  Assembly assembly = assemble(outputs);
  assembly.diagnostics.insert(assembly.diagnostics.end(), tls_errors_.begin(), tls_errors_.end());

  runtime::BuildOptions options;
  options.entry_points = plan_.proxied;
  options.default_entry_points = plan_.defaults;
  options.tls_entry_points = plan_.tls;
  options.health = &health_;
  options.chains =
      middleware::chain_factory(middleware::Environment{.registry = &middleware_state_});
  const runtime::BuildResult build = runtime::build_snapshot(assembly.configuration, options);
  proxy_.publish(build.snapshot);
  health_.prune();
  middleware_state_.sweep();
  ++reloads_;

  for (const config::Diagnostic& error : build.errors) {
    log::warn("runtime", "{}: {}", error.name, error.message);
  }
  log::info("controller", "configuration {} applied: {} routers, {} services, {} middlewares",
            reloads_, assembly.configuration.http.routers.size(),
            assembly.configuration.http.services.size(),
            assembly.configuration.http.middlewares.size());

  if (!apis_.empty()) {
    auto state = std::make_shared<api::State>(
        make_api_state(static_configuration_, assembly, build, containers_));
    state->reloads = reloads_;
    state->updated = std::chrono::system_clock::now();
    for (api::Server* api : apis_) api->update(state);
  }
}

}  // namespace berth::app
