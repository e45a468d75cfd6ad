#pragma once
// What the API shows: plain data the control plane fills on every configuration or status change
// and hands to api::Server::update(). The API never asks anyone for anything; it only renders this.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "berth/config/diagnostic.hpp"
#include "berth/config/dynamic.hpp"
#include "berth/config/static.hpp"
#include "berth/labels/labels.hpp"

namespace berth::api {

/// One entry point of the static configuration, as /api/entrypoints shows it.
struct EntryPointInfo {
  std::string name;
  config::EntryPoint entry_point;
  friend bool operator==(const EntryPointInfo&, const EntryPointInfo&) = default;
};

/// The `features` of /api/overview (Traefik names the backend, or "" when off).
struct Features {
  std::string tracing;  ///< e.g. "OpenTelemetry"; "" when off
  std::string metrics;  ///< "Prometheus" when /metrics is on, else ""
  bool access_log = false;
  friend bool operator==(const Features&, const Features&) = default;
};

/// Server states as the API and the dashboard spell them.
inline constexpr std::string_view server_up = "UP";
inline constexpr std::string_view server_down = "DOWN";
inline constexpr std::string_view server_draining = "DRAINING";

struct State {
  /// All providers merged; every key is qualified (`name@provider`). References inside routers are
  /// shown as they are here (Traefik shows them as written in the labels).
  config::Configuration configuration;
  /// Diagnostics of every provider and of the runtime build. Router, service and middleware
  /// diagnostics must carry the resource's qualified name: an error makes it "disabled", a warning
  /// "warning"; info notes are not shown on resources. A resource that has an error but is missing
  /// from `configuration` (dropped by its provider) is still listed, disabled, so that the error is
  /// visible. Container and provider diagnostics are shown with the containers.
  config::Diagnostics diagnostics;
  /// Server URL -> "UP", "DOWN" or "DRAINING". Servers absent here have no known state and are
  /// left out of a service's `serverStatus`.
  std::map<std::string, std::string> server_status;
  /// Router (qualified) -> the entry points it is actually attached to (Traefik's `using`).
  std::map<std::string, std::vector<std::string>> router_entry_points;
  /// Router (qualified) -> its effective priority (the rule's length when the router sets none).
  /// A router absent here shows its configured priority.
  std::map<std::string, std::int64_t> router_priority;
  /// Every entry point, the `traefik` one included.
  std::vector<EntryPointInfo> entry_points;
  /// Every container the Docker provider knows, with why it is or is not routed.
  std::vector<labels::ContainerDecision> containers;
  /// Enabled providers as Traefik names them in /api/overview: "Docker", ...
  std::vector<std::string> providers;
  Features features;
  /// Configuration reloads applied since start-up (traefik_config_reloads_total).
  std::uint64_t reloads = 0;
  /// When the current configuration was applied (traefik_config_last_reload_success).
  std::chrono::system_clock::time_point updated;
};

}  // namespace berth::api
