#include <catch2/catch.hpp>

#include <algorithm>

#include "berth/runtime/snapshot.hpp"
#include "test_config.hpp"

using namespace berth;
using runtime::test::load_balancer;
using runtime::test::router;
using runtime::test::weighted;

namespace {

runtime::BuildOptions options() {
  runtime::BuildOptions o;
  o.entry_points = {"web", "websecure", "traefik"};
  o.default_entry_points = {"web", "websecure"};
  return o;
}

const config::Diagnostic* error_for(const runtime::BuildResult& result, std::string_view name) {
  auto it = std::find_if(result.errors.begin(), result.errors.end(),
                         [&](const config::Diagnostic& d) { return d.name == name; });
  return it == result.errors.end() ? nullptr : &*it;
}

rules::RequestView request(std::string_view host, std::string_view path) {
  return rules::RequestView{"GET", host, path, {}, {}, std::nullopt};
}

std::string matched(const runtime::Snapshot& snapshot, std::string_view entry_point,
                    std::string_view host, std::string_view path) {
  const auto* table = snapshot.routes(entry_point);
  if (table == nullptr) return "<no entry point>";
  const auto* route = table->match(request(host, path));
  return route == nullptr ? "<none>" : route->name;
}

}  // namespace

TEST_CASE("routers without entry points go to the default ones - unknown entry points are errors") {
  config::Configuration c;
  c.http.services["svc@docker"] = load_balancer({{"http://10.0.0.1:80", 1}});
  c.http.routers["all@docker"] = router("Host(`a`)", "svc");
  c.http.routers["api@docker"] = router("Host(`b`)", "svc", 0, {"traefik"});
  c.http.routers["typo@docker"] = router("Host(`c`)", "svc", 0, {"nope"});
  c.http.routers["half@docker"] = router("Host(`d`)", "svc", 0, {"web", "nope"});
  const auto result = runtime::build_snapshot(c, options());
  const auto& s = *result.snapshot;

  CHECK(matched(s, "web", "a", "/") == "all@docker");
  CHECK(matched(s, "websecure", "a", "/") == "all@docker");
  CHECK(matched(s, "traefik", "a", "/") == "<none>");
  CHECK(matched(s, "traefik", "b", "/") == "api@docker");
  CHECK(matched(s, "web", "b", "/") == "<none>");
  CHECK(matched(s, "web", "c", "/") == "<none>");
  CHECK(matched(s, "web", "d", "/") == "half@docker");

  const auto* typo = error_for(result, "typo@docker");
  REQUIRE(typo != nullptr);
  CHECK(typo->resource == config::ResourceKind::router);
  CHECK(typo->message.find("entryPoint \"nope\" doesn't exist") != std::string::npos);
  CHECK(error_for(result, "half@docker") != nullptr);
}

TEST_CASE("a broken router is disabled with its error while the others keep working") {
  struct Case {
    std::string name;
    config::Router router;
    std::string message_part;
  };
  const auto c = GENERATE(Case{"badrule@file", router("Host(`a`", "svc"), "invalid rule"},
                          Case{"noservice@file", router("Host(`a`)", "missing"),
                               "the service \"missing@file\" does not exist"},
                          Case{"nomiddleware@file", router("Host(`a`)", "svc", 0, {}, {"auth"}),
                               "middleware \"auth@file\" does not exist"},
                          Case{"cycle@file", router("Host(`a`)", "loop1"), "cycle detected"},
                          Case{"badurl@file", router("Host(`a`)", "badurl"), "invalid server URL"});

  config::Configuration conf;
  conf.http.services["svc@file"] = load_balancer({{"http://10.0.0.1:80", 1}});
  conf.http.services["loop1@file"] = weighted({{"loop2", 1}});
  conf.http.services["loop2@file"] = weighted({{"loop1", 1}});
  conf.http.services["badurl@file"] = load_balancer({{"ftp://x", 1}});
  conf.http.routers["good@file"] = router("Host(`good`)", "svc");
  conf.http.routers[c.name] = c.router;
  const auto result = runtime::build_snapshot(conf, options());

  CHECK(matched(*result.snapshot, "web", "good", "/") == "good@file");
  CHECK(matched(*result.snapshot, "web", "a", "/") == "<none>");
  const auto* error = error_for(result, c.name);
  REQUIRE(error != nullptr);
  CHECK_THAT(error->message, Catch::Contains(c.message_part));
  CHECK(error_for(result, "good@file") == nullptr);
}

TEST_CASE("service errors are reported on the service and cycles do not hang") {
  config::Configuration conf;
  conf.http.services["loop1@file"] = weighted({{"loop2", 1}});
  conf.http.services["loop2@file"] = weighted({{"loop1@file", 1}});
  conf.http.services["self@file"] = weighted({{"self", 1}});
  conf.http.services["ok@file"] = weighted({{"leaf", 2}});
  conf.http.services["leaf@file"] = load_balancer({{"http://[::1]:8080", 1}});
  const auto result = runtime::build_snapshot(conf, options());
  CHECK(error_for(result, "self@file") != nullptr);
  CHECK(error_for(result, "loop1@file") != nullptr);
  CHECK(error_for(result, "ok@file") == nullptr);
  const auto* leaf = result.snapshot->service("leaf@file");
  REQUIRE(leaf != nullptr);
  REQUIRE(leaf->servers.size() == 1);
  CHECK(leaf->servers[0].host == "::1");
  CHECK(leaf->servers[0].port == 8080);
  CHECK(leaf->servers[0].pool_key == "::1:8080");
  const auto* ok = result.snapshot->service("ok@file");
  REQUIRE(ok != nullptr);
  REQUIRE(ok->children.size() == 1);
  CHECK(ok->children[0].weight == 2);
}

TEST_CASE("the best priority wins among host candidates and the fallback list") {
  config::Configuration conf;
  conf.http.services["svc@docker"] = load_balancer({{"http://10.0.0.1:80", 1}});
  // Default priorities are the rule lengths: the longer rule wins.
  conf.http.routers["host@docker"] = router("Host(`a.example`)", "svc");
  conf.http.routers["hostpath@docker"] = router("Host(`a.example`) && PathPrefix(`/api`)", "svc");
  conf.http.routers["catchall@docker"] = router("PathPrefix(`/`)", "svc");
  conf.http.routers["pinned@docker"] = router("PathPrefix(`/pinned`)", "svc", 1000);
  conf.http.routers["low@docker"] = router("Host(`b.example`)", "svc", 1);
  const auto result = runtime::build_snapshot(conf, options());
  REQUIRE(result.errors.empty());
  const auto& s = *result.snapshot;

  struct Case {
    std::string_view host;
    std::string_view path;
    std::string_view expected;
  };
  const auto c = GENERATE(
      Case{"a.example", "/", "host@docker"}, Case{"A.Example:8080", "/api/x", "hostpath@docker"},
      Case{"a.example.", "/api", "hostpath@docker"}, Case{"a.example", "/pinned", "pinned@docker"},
      Case{"other", "/x", "catchall@docker"}, Case{"b.example", "/", "catchall@docker"});
  CHECK(matched(s, "web", c.host, c.path) == c.expected);
}

TEST_CASE("the host and path indexes pick the same route as trying every route in order") {
  // Hosts, path prefixes, both, neither, nested prefixes and priorities that interleave the lists.
  const std::vector<std::string_view> rules = {
      "Host(`a`)",
      "Host(`a`) && PathPrefix(`/api`)",
      "PathPrefix(`/`)",
      "PathPrefix(`/api`)",
      "PathPrefix(`/api/v2`) && Method(`GET`)",
      "Path(`/api/v2/exact`)",
      "PathPrefix(`/b`) || Path(`/c`)",
      "PathPrefix(`/api`) || Host(`b`)",
      "PathRegexp(`^/re`)",
      "Host(`*.wild`)",
      "Host(`b`) || PathPrefix(`/hb`)",
      "!PathPrefix(`/api`)",
  };
  config::Configuration conf;
  conf.http.services["svc@docker"] = load_balancer({{"http://10.0.0.1:80", 1}});
  for (std::size_t i = 0; i < rules.size(); ++i) {
    // Priorities chosen so that neither rule length nor list membership decides the order.
    conf.http.routers["r" + std::to_string(i) + "@docker"] =
        router(std::string(rules[i]), "svc", static_cast<std::int64_t>(1 + (i * 7) % rules.size()));
  }
  const auto result = runtime::build_snapshot(conf, options());
  REQUIRE(result.errors.empty());
  const auto* table = result.snapshot->routes("web");
  REQUIRE(table != nullptr);

  for (std::string_view host : {"a", "b", "x.wild", "none"}) {
    for (std::string_view path :
         {"/", "/api", "/api/v2/x", "/api/v2/exact", "/b", "/c", "/hb", "/re", "/other", "/ap"}) {
      const rules::RequestView view = request(host, path);
      const runtime::Route* expected = nullptr;
      for (const auto& route : table->routes()) {
        if (route.rule.matches(view)) {
          expected = &route;
          break;
        }
      }
      CAPTURE(host, path);
      CHECK(table->match(view) == expected);
    }
  }
}

TEST_CASE("priority defaults to the rule length and routes with equal priority sort by name") {
  config::Configuration conf;
  conf.http.services["svc@docker"] = load_balancer({{"http://10.0.0.1:80", 1}});
  conf.http.routers["b@docker"] = router("Host(`x`)", "svc", 5);
  conf.http.routers["a@docker"] = router("Host(`x`)", "svc", 5);
  conf.http.routers["c@docker"] = router("Host(`y`)", "svc");
  const auto result = runtime::build_snapshot(conf, options());
  const auto& routes = result.snapshot->routes("web")->routes();
  REQUIRE(routes.size() == 3);
  CHECK(routes[0].name == "c@docker");
  CHECK(routes[0].priority == static_cast<std::int64_t>(std::string_view("Host(`y`)").size()));
  CHECK(routes[1].name == "a@docker");
  CHECK(routes[2].name == "b@docker");
  CHECK(matched(*result.snapshot, "web", "x", "/") == "a@docker");
}

TEST_CASE("health state is shared across snapshots through the registry") {
  runtime::HealthRegistry registry;
  auto o = options();
  o.health = &registry;
  config::Configuration conf;
  conf.http.services["svc@docker"] = load_balancer({{"http://10.0.0.1:80", 1}});
  auto first = runtime::build_snapshot(conf, o);
  CHECK(registry.set_up("http://10.0.0.1:80", false));
  auto second = runtime::build_snapshot(conf, o);
  CHECK_FALSE(second.snapshot->service("svc@docker")->servers[0].up());
  CHECK_FALSE(registry.set_up("http://10.0.0.9:80", false));
  CHECK(registry.prune() == 0);
  first.snapshot.reset();
  second.snapshot.reset();
  CHECK(registry.prune() == 1);
  CHECK(registry.find("http://10.0.0.1:80") == nullptr);
}
