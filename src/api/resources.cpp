#include "resources.hpp"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "berth/config/json.hpp"
#include "url.hpp"

namespace berth::api {

namespace {

using nlohmann::json;

/// Errors and warnings of one resource, in the order they were found, without repeats (AddError).
struct Problems {
  std::vector<std::string> messages;
  bool error = false;
  bool warning = false;

  void add(const config::Diagnostic& diagnostic) {
    if (diagnostic.severity == config::Severity::info) return;
    if (diagnostic.severity == config::Severity::error) error = true;
    if (diagnostic.severity == config::Severity::warning) warning = true;
    if (std::find(messages.begin(), messages.end(), diagnostic.message) == messages.end()) {
      messages.push_back(diagnostic.message);
    }
  }
  std::string_view status() const {
    return error ? status_disabled : warning ? status_warning : status_enabled;
  }
  void apply(json& body) const {
    if (!messages.empty()) body["error"] = messages;
    body["status"] = status();
  }
};

using ProblemIndex = std::map<std::pair<ResourceKind, std::string>, Problems>;

ProblemIndex index_problems(const config::Diagnostics& diagnostics) {
  ProblemIndex index;
  for (const config::Diagnostic& diagnostic : diagnostics) {
    if (diagnostic.resource != ResourceKind::router &&
        diagnostic.resource != ResourceKind::service &&
        diagnostic.resource != ResourceKind::middleware) {
      continue;
    }
    index[{diagnostic.resource, diagnostic.name}].add(diagnostic);
  }
  return index;
}

const Problems& problems_of(const ProblemIndex& index, ResourceKind kind, const std::string& name) {
  static const Problems none;
  auto it = index.find({kind, name});
  return it == index.end() ? none : it->second;
}

std::string lower_type(std::string_view kind) {
  return to_lower(kind);
}

std::string service_type(const config::Service& service) {
  return std::visit(
      [](const auto& kind) -> std::string {
        using Kind = std::decay_t<decltype(kind)>;
        return std::is_same_v<Kind, config::LoadBalancer> ? "loadbalancer" : "weighted";
      },
      service.kind);
}

std::string middleware_type(const config::Middleware& middleware) {
  return std::visit(
      [](const auto& kind) { return lower_type(std::decay_t<decltype(kind)>::kind_name); },
      middleware.kind);
}

}  // namespace

std::string_view severity_name(config::Severity severity) {
  switch (severity) {
    case config::Severity::error:
      return "error";
    case config::Severity::warning:
      return "warning";
    case config::Severity::info:
      return "info";
  }
  return "unknown";
}

Resources build_resources(const State& state) {
  const config::HttpConfiguration& http = state.configuration.http;
  const ProblemIndex problems = index_problems(state.diagnostics);

  // usedBy: routers naming a service or middleware; unqualified names resolve in the router's
  // provider (runtime.PopulateUsedBy).
  std::map<std::string, std::set<std::string>> service_users;
  std::map<std::string, std::set<std::string>> middleware_users;
  for (const auto& [name, router] : http.routers) {
    const std::string_view provider = config::split_qualified(name).provider;
    if (!router.service.empty()) {
      service_users[config::qualify(router.service, provider)].insert(name);
    }
    for (const std::string& middleware : router.middlewares) {
      middleware_users[config::qualify(middleware, provider)].insert(name);
    }
  }
  const auto used_by = [](const std::map<std::string, std::set<std::string>>& users,
                          const std::string& name, json& body) {
    auto it = users.find(name);
    if (it != users.end())
      body["usedBy"] = std::vector<std::string>(it->second.begin(), it->second.end());
  };

  Resources out;
  for (const auto& [name, router] : http.routers) {
    json body = config::to_json(router);
    auto priority = state.router_priority.find(name);
    const std::int64_t effective =
        priority == state.router_priority.end() ? router.priority : priority->second;
    if (effective != 0) {
      body["priority"] = effective;
    } else {
      body.erase("priority");
    }
    if (router.tls && router.tls->options.empty()) body["tls"]["options"] = "default";
    problems_of(problems, ResourceKind::router, name).apply(body);
    auto using_it = state.router_entry_points.find(name);
    if (using_it != state.router_entry_points.end() && !using_it->second.empty()) {
      // Sorted and unique, as Traefik's runtime keeps it.
      const std::set<std::string> used(using_it->second.begin(), using_it->second.end());
      body["using"] = std::vector<std::string>(used.begin(), used.end());
    }
    out.routers.emplace(name, Item{std::move(body), {}});
  }

  for (const auto& [name, service] : http.services) {
    json body = config::to_json(service);
    problems_of(problems, ResourceKind::service, name).apply(body);
    used_by(service_users, name, body);
    if (const auto* balancer = std::get_if<config::LoadBalancer>(&service.kind)) {
      json status = json::object();
      for (const config::Server& server : balancer->servers) {
        auto it = state.server_status.find(server.url);
        if (it != state.server_status.end()) status[server.url] = it->second;
      }
      if (!status.empty()) body["serverStatus"] = std::move(status);
    }
    out.services.emplace(name, Item{std::move(body), service_type(service)});
  }

  for (const auto& [name, middleware] : http.middlewares) {
    json body = config::to_json(middleware);
    problems_of(problems, ResourceKind::middleware, name).apply(body);
    used_by(middleware_users, name, body);
    out.middlewares.emplace(name, Item{std::move(body), middleware_type(middleware)});
  }

  // A resource its provider dropped because of an error is still shown, disabled, with the error.
  for (const auto& [key, found] : problems) {
    const auto& [kind, name] = key;
    if (!found.error) continue;
    std::map<std::string, Item>& items = kind == ResourceKind::router    ? out.routers
                                         : kind == ResourceKind::service ? out.services
                                                                         : out.middlewares;
    if (items.contains(name)) continue;
    json body = json::object();
    found.apply(body);
    if (kind == ResourceKind::service) used_by(service_users, name, body);
    if (kind == ResourceKind::middleware) used_by(middleware_users, name, body);
    items.emplace(name, Item{std::move(body), {}});
  }
  return out;
}

json with_identity(const std::string& name, const Item& item, ResourceKind kind) {
  json out = item.body;
  out["name"] = name;
  const std::string_view provider = config::split_qualified(name).provider;
  if (!provider.empty()) out["provider"] = provider;
  if (kind == ResourceKind::router) {
    auto priority = out.find("priority");
    out["priorityStr"] = std::to_string(
        priority != out.end() && priority->is_number_integer() ? priority->get<std::int64_t>() : 0);
  } else if (!item.type.empty()) {
    out["type"] = item.type;
  }
  return out;
}

json entry_point_json(const EntryPointInfo& info) {
  const config::EntryPoint& ep = info.entry_point;
  json out = json::object();
  if (!ep.address.empty()) out["address"] = ep.address;
  if (ep.as_default) out["asDefault"] = true;

  const auto duration = [](json& into, const char* key, config::Duration value) {
    if (value.count() != 0) into[key] = config::format_duration(value);
  };
  json life_cycle = json::object();
  duration(life_cycle, "requestAcceptGraceTimeout",
           ep.transport.lifecycle.request_accept_grace_timeout);
  duration(life_cycle, "graceTimeOut", ep.transport.lifecycle.grace_timeout);
  json responding = json::object();
  duration(responding, "readTimeout", ep.transport.responding_timeouts.read_timeout);
  duration(responding, "writeTimeout", ep.transport.responding_timeouts.write_timeout);
  duration(responding, "idleTimeout", ep.transport.responding_timeouts.idle_timeout);
  out["transport"] = json{{"lifeCycle", life_cycle}, {"respondingTimeouts", responding}};

  json forwarded = json::object();
  if (ep.forwarded_headers.insecure) forwarded["insecure"] = true;
  if (!ep.forwarded_headers.trusted_ips.empty()) {
    forwarded["trustedIPs"] = ep.forwarded_headers.trusted_ips;
  }
  out["forwardedHeaders"] = std::move(forwarded);

  json http = json::object();
  if (ep.http.redirection) {
    const config::RedirectEntryPoint& redirect = *ep.http.redirection;
    json entry = json::object();
    if (!redirect.to.empty()) entry["to"] = redirect.to;
    if (!redirect.scheme.empty()) entry["scheme"] = redirect.scheme;
    if (redirect.permanent) entry["permanent"] = true;
    if (redirect.priority != 0) entry["priority"] = redirect.priority;
    http["redirections"] = json{{"entryPoint", std::move(entry)}};
  }
  if (ep.http.tls) http["tls"] = json::object();
  out["http"] = std::move(http);
  out["name"] = info.name;
  return out;
}

json diagnostic_json(const config::Diagnostic& diagnostic) {
  json out{{"resource", config::to_string(diagnostic.resource)},
           {"name", diagnostic.name},
           {"severity", severity_name(diagnostic.severity)},
           {"message", diagnostic.message}};
  if (!diagnostic.container.empty()) out["container"] = diagnostic.container;
  return out;
}

json container_json(const State& state, const labels::ContainerDecision& container) {
  json diagnostics = json::array();
  for (const config::Diagnostic& diagnostic : state.diagnostics) {
    const bool about_it =
        !container.name.empty() &&
        (diagnostic.container == container.name ||
         (diagnostic.resource == ResourceKind::container && diagnostic.name == container.name));
    if (about_it) diagnostics.push_back(diagnostic_json(diagnostic));
  }
  return json{{"id", container.id},
              {"name", container.name},
              {"routed", container.routed},
              {"reason", container.reason},
              {"routers", container.routers},
              {"services", container.services},
              {"diagnostics", std::move(diagnostics)}};
}

}  // namespace berth::api
