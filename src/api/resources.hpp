#pragma once
// The API's view of routers, services and middlewares: Traefik's runtime *Info objects (the dynamic
// configuration plus status, error, using/usedBy, serverStatus), built from a State.

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "berth/api/state.hpp"

namespace berth::api {

using config::ResourceKind;

inline constexpr std::string_view status_enabled = "enabled";
inline constexpr std::string_view status_disabled = "disabled";
inline constexpr std::string_view status_warning = "warning";

struct Item {
  nlohmann::json body;  ///< as in /api/rawdata: no name, provider, type or priorityStr
  std::string type;     ///< services and middlewares: Traefik's lower-cased kind
};

struct Resources {
  std::map<std::string, Item> routers;
  std::map<std::string, Item> services;
  std::map<std::string, Item> middlewares;
};

Resources build_resources(const State& state);

/// The item as the /api/http/* endpoints show it: with name, provider and type or priorityStr.
nlohmann::json with_identity(const std::string& name, const Item& item, ResourceKind kind);

nlohmann::json entry_point_json(const EntryPointInfo& info);
nlohmann::json container_json(const State& state, const labels::ContainerDecision& container);
nlohmann::json diagnostic_json(const config::Diagnostic& diagnostic);

std::string_view severity_name(config::Severity severity);

}  // namespace berth::api
