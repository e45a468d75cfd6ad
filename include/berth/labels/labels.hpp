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
  /// Networks berth's own container is attached to, when berth runs in a container: preferred when a
  /// container is on several networks and no network is configured.
  std::vector<std::string> own_networks;
};

/// Why a container is, or is not, routed: for the API's "why is my container not routed?".
struct ContainerDecision {
  std::string id;
  std::string name;
  bool routed = false;
  std::string reason;  ///< for excluded containers: disabled, constraint, not running, unhealthy, ...
  std::vector<std::string> routers;
  std::vector<std::string> services;
  friend bool operator==(const ContainerDecision&, const ContainerDecision&) = default;
};

struct Result {
  config::Configuration configuration;  ///< unqualified names
  config::Diagnostics diagnostics;
  std::vector<ContainerDecision> containers;
};

/// Builds the provider configuration from every container currently known.
Result build_configuration(std::span<const ContainerInfo> containers, const ProviderOptions& options);

}  // namespace berth::labels
