#pragma once
// What changed between two States, for the /api/events stream. Pure.

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "berth/api/state.hpp"

namespace berth::api {

struct NameChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;  ///< definition, status or errors differ
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
  friend bool operator==(const NameChanges&, const NameChanges&) = default;
};

struct ServerChange {
  std::string url;
  std::string status;  ///< the new status; "" when the server is gone
  friend bool operator==(const ServerChange&, const ServerChange&) = default;
};

struct Changes {
  NameChanges routers;
  NameChanges services;
  NameChanges middlewares;
  NameChanges containers;  ///< by container name; changed when its decision changed
  /// Servers that appeared, disappeared or changed state (UP/DOWN/DRAINING).
  std::vector<ServerChange> servers;
  bool empty() const {
    return routers.empty() && services.empty() && middlewares.empty() && containers.empty() &&
           servers.empty();
  }
  friend bool operator==(const Changes&, const Changes&) = default;
};

/// Names in sorted order. A router, service or middleware counts as changed when its definition or
/// anything the API shows about it (status, errors, entry points, priority) changed.
Changes diff(const State& before, const State& after);

/// {"time":..., "routers":{"added":[...],"removed":[...],"changed":[...]}, "services":...,
///  "middlewares":..., "containers":..., "servers":[{"url":...,"status":...}]}; empty lists are
///  kept
/// so that clients need no checks.
nlohmann::json to_json(const Changes& changes, const std::string& time);

}  // namespace berth::api
