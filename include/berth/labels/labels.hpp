#pragma once
// traefik.* labels of a set of containers -> one provider configuration, with Traefik's semantics
// (filtering, auto-created routers and services, naming, port and network choice, replica merging).
// Pure: no sockets, no exceptions out of it; every problem becomes a Diagnostic on its resource.

#include <span>
#include <string>
#include <vector>

#include "berth/config/diagnostic.hpp"
#include "berth/config/dynamic.hpp"
#include "berth/labels/container.hpp"

namespace berth::labels {

/// The Docker provider's static options that shape decoding (providers.docker.*).
struct ProviderOptions {
  bool exposed_by_default = true;
  std::string network;
  std::string default_rule = "Host(`{{ normalize .Name }}`)";
  std::string constraints;
  bool allow_empty_services = false;
  bool use_bind_port_ip = false;
  /// Networks berth's own container is attached to, when berth runs in a container: preferred when
  /// a container is on several networks and no network is configured.
  std::vector<std::string> own_networks;
};

/// Why a container is, or is not, routed: for the API's "why is my container not routed?".
struct ContainerDecision {
  std::string id;
  std::string name;
  bool routed = false;
  std::string
      reason;  ///< for excluded containers: disabled, constraint, not running, unhealthy, ...
  std::vector<std::string> routers;
  std::vector<std::string> services;
  bool draining = false;  ///< stopping: kept, but its servers take no new requests
  friend bool operator==(const ContainerDecision&, const ContainerDecision&) = default;
};

struct Result {
  config::Configuration configuration;  ///< unqualified names
  config::Diagnostics diagnostics;
  std::vector<ContainerDecision> containers;
};

/// Builds the provider configuration from every container currently known.
///
/// Where berth differs from Traefik, or Traefik leaves a choice open:
/// - Filtering runs in Traefik's order: traefik.enable / exposedByDefault, constraints, state,
///   health. An empty `state` counts as running (the provider always fills it).
/// - Draining (stopping) containers contribute no servers. Their routers, services and middlewares
///   are merged after those of the other containers and never override or conflict with them, so a
///   rolling update with changed labels keeps serving the new replicas; a resource that only a
///   stopping container defines stays, with no servers (503, not 404) until the container is gone.
/// - `sticky=true` alone makes the service sticky with a default cookie (in Traefik it silently
/// does
///   nothing); `sticky=false` or `sticky.cookie=false` turn stickiness off whatever the sub-keys
///   say.
/// - Network choice is deterministic: the traefik.docker.network label, then options.network (each
///   also matched as compose's `<project>_<name>`), then the first network by name shared with
///   berth (options.own_networks), then the only network, else the first by name with a warning.
///   A configured network the container is not on gives a warning and the fallback. Networks with
///   no address are never chosen. IPv4 is preferred, else the global IPv6 address.
/// - network_mode host → 127.0.0.1 (host.docker.internal does not resolve from berth's side);
///   container:<x> → the networks of network_source[0], recursively.
/// - useBindPortIP with a binding on 0.0.0.0 / :: uses 127.0.0.1 / ::1; an unpublished port falls
///   back to the container's address with a warning.
/// - Unknown keys under a router, service or middleware drop that resource (a typo such as
///   `middleware=auth` must not silently serve without auth); other unknown traefik.* keys are
///   container warnings. traefik.tcp/udp/tls.* are ignored with an info diagnostic.
/// - Label keys are case-insensitive; keys that differ only in case are one key (the first, in
///   byte order, wins, with a warning). Resource and header names keep their case.
/// - The default rule is a Go template; berth evaluates .Name, .ContainerName, .Labels(.k), index,
///   normalize, lower, upper, trim, trimPrefix, trimSuffix, replace, default, pipelines and
///   parentheses. Anything else is a diagnostic on the router, which is dropped. Traefik's internal
///   anti-recursion middleware on default routers is not added here.
Result build_configuration(std::span<const ContainerInfo> containers,
                           const ProviderOptions& options);

}  // namespace berth::labels
