#pragma once
// The control plane's pure steps, testable without sockets: which entry points the proxy and the
// API serve, merging every provider's output under `name@provider`, and what the API shows.

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "berth/api/state.hpp"
#include "berth/config/diagnostic.hpp"
#include "berth/config/dynamic.hpp"
#include "berth/config/static.hpp"
#include "berth/labels/labels.hpp"
#include "berth/runtime/snapshot.hpp"

namespace berth::app {

struct EntryPointPlan {
  std::vector<std::string> proxied;  ///< served by the proxy
  /// Served by the API server (API, dashboard, ping, metrics): the `traefik` entry point when any
  /// of those is enabled on it.
  std::optional<std::string> internal;
  /// Where routers that name no entry point go: the asDefault ones, else every proxied one.
  std::vector<std::string> defaults;
  /// Entry points whose every router is a TLS router (`http.tls=true`).
  std::vector<std::string> tls;
};

/// Throws config::StaticConfigError when ping or metrics ask for an entry point berth cannot serve
/// them on (only the internal one is supported).
EntryPointPlan plan_entry_points(const config::StaticConfiguration& configuration);

/// One provider's latest output, with unqualified names.
struct ProviderOutput {
  std::string provider;  ///< "docker", "file"
  config::Configuration configuration;
  config::Diagnostics diagnostics;
};

struct Assembly {
  config::Configuration configuration;  ///< every key `name@provider`
  config::Diagnostics diagnostics;      ///< resource names qualified likewise
};

/// Traefik's internal services that routers may name: api@internal and dashboard@internal with
/// the API, ping@internal with ping, prometheus@internal with Prometheus metrics, and always
/// noop@internal (no servers: for routers whose middleware answers, such as a redirection; the
/// proxy answers 418 when a request reaches it, as Traefik does). The others are each
/// a load balancer over berth's internal API server at `internal_url`, which listens on the
/// loopback interface only, so the API needs no `traefik` entry point: a router with a Host rule
/// and a basicauth middleware in front of it is how it is published safely.
config::Configuration internal_services(const config::StaticConfiguration& configuration,
                                        const std::string& internal_url);

/// Merges the providers' outputs; a resource keeps its provider in its name, so nothing collides.
Assembly assemble(std::span<const ProviderOutput> outputs);

/// The API's view of one applied configuration.
api::State make_api_state(const config::StaticConfiguration& static_configuration,
                          const Assembly& assembly, const runtime::BuildResult& build,
                          std::vector<labels::ContainerDecision> containers);

}  // namespace berth::app
