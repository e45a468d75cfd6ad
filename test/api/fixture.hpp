#pragma once
// One State used across the API tests: routers of two providers, a disabled router, a router only
// known from its error, a load balancer with a draining server, a weighted service, two middlewares
// (one with a warning) and two containers.

#include <chrono>

#include "berth/api/state.hpp"

namespace berth::api::test {

inline State fixture_state() {
  using namespace config;
  State state;
  HttpConfiguration& http = state.configuration.http;

  Router whoami;
  whoami.entry_points = {"web"};
  whoami.middlewares = {"auth"};
  whoami.service = "whoami";
  whoami.rule = "Host(`a.example`)";
  http.routers["whoami@docker"] = whoami;

  Router api;
  api.entry_points = {"traefik"};
  api.service = "api@internal";
  api.rule = "PathPrefix(`/api`)";
  api.priority = 100;
  http.routers["api@internal"] = api;

  Router broken;
  broken.entry_points = {"web"};
  broken.service = "whoami";
  broken.rule = "Host(`";
  http.routers["broken@docker"] = broken;

  LoadBalancer balancer;
  balancer.servers = {config::Server{"http://172.18.0.3:80", std::nullopt, false},
                      config::Server{"http://172.18.0.4:80", 2, false}};
  balancer.pass_host_header = true;
  Cookie cookie;
  cookie.name = "sid";
  cookie.secure = true;
  balancer.sticky = Sticky{cookie};
  http.services["whoami@docker"] = Service{balancer};

  Weighted weighted;
  weighted.services = {WeightedServiceRef{"whoami", 3}};
  http.services["canary@docker"] = Service{weighted};

  http.middlewares["auth@docker"] = Middleware{BasicAuth{{"admin:x"}, "", "", false, ""}};
  http.middlewares["unused@docker"] = Middleware{AddPrefix{"/p"}};

  state.diagnostics = {
      Diagnostic{ResourceKind::router, "broken@docker", "whoami-1", "rule: unterminated string",
                 Severity::error},
      Diagnostic{ResourceKind::router, "ghost@docker", "a",
                 "router ghost defined differently by containers a and b", Severity::error},
      Diagnostic{ResourceKind::middleware, "unused@docker", "whoami-1", "prefix looks odd",
                 Severity::warning},
      Diagnostic{ResourceKind::service, "whoami@docker", "whoami-1", "a note", Severity::info},
      Diagnostic{ResourceKind::container, "db", "db", "traefik.enable is false", Severity::info},
  };
  state.server_status = {{"http://172.18.0.3:80", "UP"}, {"http://172.18.0.4:80", "DRAINING"}};
  state.router_entry_points = {{"whoami@docker", {"web"}}, {"api@internal", {"traefik"}}};
  state.router_priority = {{"whoami@docker", 17}, {"broken@docker", 0}};

  EntryPoint web;
  web.address = ":80";
  web.http.redirection = RedirectEntryPoint{};
  web.http.redirection->to = "websecure";
  EntryPoint traefik;
  traefik.address = ":8080";
  traefik.forwarded_headers.trusted_ips = {"10.0.0.0/8"};
  state.entry_points = {EntryPointInfo{"web", web}, EntryPointInfo{"traefik", traefik}};

  state.containers = {
      labels::ContainerDecision{"abc123", "whoami-1", true, "", {"whoami"}, {"whoami"}},
      labels::ContainerDecision{"def456", "db", false, "traefik.enable=false", {}, {}},
  };
  state.providers = {"Docker"};
  state.reloads = 3;
  state.updated = std::chrono::system_clock::time_point{std::chrono::seconds{1700000000}};
  return state;
}

}  // namespace berth::api::test
