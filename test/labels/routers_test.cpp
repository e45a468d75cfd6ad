#include <catch2/catch.hpp>

#include <type_traits>

#include "support.hpp"

namespace berth::labels::test {
namespace {

constexpr const char* host_rule = "Host(`a.example`)";

template <class Set>
config::Router with_rule(Set set) {
  config::Router router;
  if constexpr (!std::is_null_pointer_v<Set>) set(router);
  if (router.rule.empty()) router.rule = host_rule;
  if (router.service.empty()) router.service = "app";
  return router;
}

struct RouterCase {
  const char* what;
  LabelMap labels;
  config::Router expected;
};

}  // namespace

TEST_CASE("router label keys decode into the router", "[labels][routers]") {
  config::RouterTls resolver;
  resolver.cert_resolver = "le";
  config::RouterTls options;
  options.options = "modern";
  config::RouterTls domains;
  domains.domains = {config::Domain{"example.com", {"a.example.com", "b.example.com"}},
                     config::Domain{"other.example", {}}};
  config::RouterObservability observability;
  observability.access_logs = false;
  observability.metrics = true;
  observability.tracing = true;
  observability.trace_verbosity = "detailed";

  const std::vector<RouterCase> cases = {
      {"rule", {{"traefik.http.routers.web.rule", host_rule}}, with_rule(nullptr)},
      {"priority",
       {{"traefik.http.routers.web.rule", host_rule}, {"traefik.http.routers.web.priority", "42"}},
       with_rule([&](config::Router& x) { x.priority = 42; })},
      {"negative priority",
       {{"traefik.http.routers.web.rule", host_rule}, {"traefik.http.routers.web.priority", "-3"}},
       with_rule([&](config::Router& x) { x.priority = -3; })},
      {"entrypoints CSV with spaces",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.entrypoints", "web, websecure"}},
       with_rule([&](config::Router& x) {
         x.entry_points = {"web", "websecure"};
       })},
      {"middlewares CSV keeps provider suffixes",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.middlewares", "auth,strip@file"}},
       with_rule([&](config::Router& x) {
         x.middlewares = {"auth", "strip@file"};
       })},
      {"service",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.service", "api@file"}},
       with_rule([&](config::Router& x) { x.service = "api@file"; })},
      {"tls=true gives an empty tls block",
       {{"traefik.http.routers.web.rule", host_rule}, {"traefik.http.routers.web.tls", "true"}},
       with_rule([&](config::Router& x) { x.tls = config::RouterTls{}; })},
      {"tls=false removes tls even with sub-keys",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.tls", "false"},
        {"traefik.http.routers.web.tls.certresolver", "le"}},
       with_rule(nullptr)},
      {"tls.certresolver",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.tls.certresolver", "le"}},
       with_rule([&](config::Router& x) { x.tls = resolver; })},
      {"tls.options",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.tls.options", "modern"}},
       with_rule([&](config::Router& x) { x.tls = options; })},
      {"tls.domains[n]",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.tls.domains[0].main", "example.com"},
        {"traefik.http.routers.web.tls.domains[0].sans", "a.example.com,b.example.com"},
        {"traefik.http.routers.web.tls.domains[1].main", "other.example"}},
       with_rule([&](config::Router& x) { x.tls = domains; })},
      {"observability",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.observability.accesslogs", "false"},
        {"traefik.http.routers.web.observability.metrics", "true"},
        {"traefik.http.routers.web.observability.tracing", "TRUE"},
        {"traefik.http.routers.web.observability.traceverbosity", "detailed"}},
       with_rule([&](config::Router& x) { x.observability = observability; })},
      {"rulesyntax",
       {{"traefik.http.routers.web.rule", host_rule},
        {"traefik.http.routers.web.rulesyntax", "v3"}},
       with_rule([&](config::Router& x) { x.rule_syntax = "v3"; })},
      {"keys are case-insensitive",
       {{"TRAEFIK.HTTP.ROUTERS.web.RULE", host_rule},
        {"Traefik.Http.Routers.web.TLS.CertResolver", "le"},
        {"traefik.http.routers.web.EntryPoints", "websecure"}},
       with_rule([&](config::Router& x) {
         x.entry_points = {"websecure"};
         x.tls = resolver;
       })},
  };

  for (const auto& c : cases) {
    SECTION(c.what) {
      Result result = build_one(container("app", c.labels));
      INFO(dump(result));
      auto it = result.configuration.http.routers.find("web");
      REQUIRE(it != result.configuration.http.routers.end());
      CHECK(it->second == c.expected);
      CHECK(result.configuration.http.routers.size() == 1);
    }
  }
}

TEST_CASE("rulesyntax is accepted with a deprecation warning", "[labels][routers]") {
  Result result = build_one(container("app", {{"traefik.http.routers.web.rulesyntax", "v2"}}));
  auto found = diagnostics_with(result, "ruleSyntax is deprecated");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == config::Severity::warning);
  CHECK(found[0].resource == config::ResourceKind::router);
}

TEST_CASE("a bad router value drops only that router", "[labels][routers]") {
  struct Case {
    const char* key;
    const char* value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"traefik.http.routers.bad.priority", "abc", "expected an integer"},
      {"traefik.http.routers.bad.priority", "99999999999999999999999", "expected an integer"},
      {"traefik.http.routers.bad.tls", "maybe", "expected true or false"},
      {"traefik.http.routers.bad.observability.metrics", "yes", "expected true or false"},
      {"traefik.http.routers.bad.middleware", "auth", "unknown label key"},
      {"traefik.http.routers.bad.rule.extra", "x", "takes a value, not sub-keys"},
      {"traefik.http.routers.bad.tls.domains", "example.com", "elements, not a value"},
      {"traefik.http.routers.bad.tls.domains.main", "example.com", "expected"},
  };
  for (const auto& c : cases) {
    SECTION(std::string(c.key) + "=" + c.value) {
      Result result =
          build_one(container("app", {{"traefik.http.routers.good.rule", host_rule},
                                      {"traefik.http.routers.bad.rule", "Host(`b.example`)"},
                                      {c.key, c.value}}));
      INFO(dump(result));
      CHECK(result.configuration.http.routers.contains("good"));
      CHECK_FALSE(result.configuration.http.routers.contains("bad"));
      auto found = diagnostics_with(result, c.message);
      REQUIRE(found.size() == 1);
      CHECK(found[0].resource == config::ResourceKind::router);
      CHECK(found[0].name == "bad");
      CHECK(found[0].container == "app");
      CHECK(found[0].message.find(c.key) != std::string::npos);
    }
  }
}

TEST_CASE("'@' in a resource name is an error", "[labels][routers]") {
  Result result =
      build_one(container("app", {{"traefik.http.routers.we@b.rule", host_rule},
                                  {"traefik.http.middlewares.m@x.addprefix.prefix", "/a"},
                                  {"traefik.http.services.s@y.loadbalancer.server.port", "80"}}));
  INFO(dump(result));
  CHECK(result.configuration.http.routers.empty());
  CHECK(result.configuration.http.middlewares.empty());
  CHECK_FALSE(result.configuration.http.services.contains("s@y"));
  CHECK(diagnostics_with(result, "'@' is not allowed").size() == 3);
}

TEST_CASE("the router's name keeps its case", "[labels][routers]") {
  Result result = build_one(container("app", {{"traefik.http.routers.MyRouter.rule", host_rule}}));
  CHECK(result.configuration.http.routers.contains("MyRouter"));
}

TEST_CASE("keys differing only in case name one key; the first wins", "[labels][routers]") {
  Result result = build_one(container("app", {{"traefik.http.routers.web.RULE", "Host(`x`)"},
                                              {"traefik.http.routers.web.rule", "Host(`y`)"}}));
  INFO(dump(result));
  REQUIRE(result.configuration.http.routers.contains("web"));
  CHECK(result.configuration.http.routers.at("web").rule == "Host(`x`)");
  CHECK(has_diagnostic(result, "keys are case-insensitive"));
}

}  // namespace berth::labels::test
