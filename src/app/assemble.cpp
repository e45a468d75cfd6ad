#include "assemble.hpp"

#include <algorithm>

namespace berth::app {
namespace {

bool enabled_on(const std::optional<std::string>& entry_point, std::string_view name) {
  return entry_point && *entry_point == name;
}

std::string qualified_resource_name(const config::Diagnostic& diagnostic,
                                    std::string_view provider) {
  switch (diagnostic.resource) {
    case config::ResourceKind::router:
    case config::ResourceKind::service:
    case config::ResourceKind::middleware:
      return config::qualify(diagnostic.name, provider);
    case config::ResourceKind::container:
    case config::ResourceKind::provider:
      break;
  }
  return diagnostic.name;
}

}  // namespace

EntryPointPlan plan_entry_points(const config::StaticConfiguration& configuration) {
  const std::string internal{config::internal_entry_point};
  const std::optional<std::string> ping =
      configuration.ping ? std::optional{configuration.ping->entry_point} : std::nullopt;
  const std::optional<std::string> metrics =
      configuration.metrics.prometheus
          ? std::optional{configuration.metrics.prometheus->entry_point}
          : std::nullopt;
  for (const auto& [what, entry_point] : {std::pair{"ping", ping}, std::pair{"metrics", metrics}}) {
    if (entry_point && *entry_point != internal) {
      throw config::StaticConfigError(std::string{what} + " on entry point \"" + *entry_point +
                                      "\": berth serves " + what + " only on the \"" + internal +
                                      "\" entry point");
    }
  }

  EntryPointPlan plan;
  const bool api_on_internal = configuration.api && configuration.api->insecure;
  if (api_on_internal || enabled_on(ping, internal) || enabled_on(metrics, internal)) {
    plan.internal = internal;
  }
  for (const auto& [name, entry_point] : configuration.entry_points) {
    if (plan.internal && name == *plan.internal) continue;
    plan.proxied.push_back(name);
    if (entry_point.as_default) plan.defaults.push_back(name);
    if (entry_point.http.tls) plan.tls.push_back(name);
  }
  // Traefik: with no asDefault entry point, routers go to every entry point but the internal one.
  if (plan.defaults.empty()) {
    std::copy_if(plan.proxied.begin(), plan.proxied.end(), std::back_inserter(plan.defaults),
                 [&](const std::string& name) { return name != internal; });
  }
  return plan;
}

config::Configuration internal_services(const config::StaticConfiguration& configuration,
                                        const std::string& internal_url) {
  config::Configuration internal;
  internal.http.services["noop"].kind = config::LoadBalancer{};
  config::Server server;
  server.url = internal_url;
  config::LoadBalancer api_server;
  api_server.servers.push_back(std::move(server));
  const auto add = [&](const char* name, bool enabled) {
    if (enabled) internal.http.services[name].kind = api_server;
  };
  add("api", configuration.api.has_value());
  add("dashboard", configuration.api && configuration.api->dashboard);
  add("ping", configuration.ping.has_value());
  add("prometheus", configuration.metrics.prometheus.has_value());
  return internal;
}

Assembly assemble(std::span<const ProviderOutput> outputs) {
  Assembly assembly;
  for (const ProviderOutput& output : outputs) {
    config::add_qualified(assembly.configuration, output.configuration, output.provider);
    for (const config::Diagnostic& diagnostic : output.diagnostics) {
      config::Diagnostic qualified = diagnostic;
      qualified.name = qualified_resource_name(diagnostic, output.provider);
      assembly.diagnostics.push_back(std::move(qualified));
    }
  }
  for (const auto& [name, router] : assembly.configuration.http.routers) {
    if (!router.tls || router.tls->cert_resolver.empty()) continue;
    assembly.diagnostics.push_back(config::Diagnostic{
        config::ResourceKind::router,
        name,
        {},
        "tls.certResolver \"" + router.tls->cert_resolver +
            "\": berth obtains no ACME certificates; this router is served with the file "
            "provider's certificates, else berth's generated default one",
        config::Severity::warning});
  }
  return assembly;
}

api::State make_api_state(const config::StaticConfiguration& static_configuration,
                          const Assembly& assembly, const runtime::BuildResult& build,
                          std::vector<labels::ContainerDecision> containers) {
  api::State state;
  state.configuration = assembly.configuration;
  state.diagnostics = assembly.diagnostics;
  state.diagnostics.insert(state.diagnostics.end(), build.errors.begin(), build.errors.end());
  state.containers = std::move(containers);

  if (build.snapshot) {
    for (const runtime::ServiceNode& service : build.snapshot->services) {
      for (const runtime::ServerTarget& server : service.servers) {
        state.server_status[server.url] =
            std::string{server.up() ? api::server_up : api::server_down};
      }
    }
    for (const auto* tables : {&build.snapshot->entry_points, &build.snapshot->tls_entry_points}) {
      for (const auto& [entry_point, table] : *tables) {
        for (const runtime::Route& route : table.routes()) {
          state.router_entry_points[route.name].push_back(entry_point);
          state.router_priority[route.name] = route.priority;
        }
      }
    }
  }

  for (const auto& [name, entry_point] : static_configuration.entry_points) {
    state.entry_points.push_back(api::EntryPointInfo{name, entry_point});
  }
  if (static_configuration.providers.docker) state.providers.emplace_back("Docker");
  if (static_configuration.providers.file) state.providers.emplace_back("File");
  if (static_configuration.metrics.prometheus) state.features.metrics = "Prometheus";
  state.features.access_log = static_configuration.access_log.has_value();
  return state;
}

}  // namespace berth::app
