#include <catch2/catch.hpp>

#include "go_template.hpp"
#include "support.hpp"

namespace berth::labels::test {

TEST_CASE("normalize follows Traefik's provider.Normalize", "[labels][defaults]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const std::vector<Case> cases = {
      {"web_shop", "web-shop"},
      {"/my_app", "my-app"},
      {"a..b--c", "a-b-c"},
      {"-x-", "x"},
      {"", ""},
      {"___", ""},
      {"Ünïcode_ok", "Ünïcode-ok"},
      {"app.v2", "app-v2"},
      {"simple", "simple"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(normalize(c.in) == c.out);
  }
}

TEST_CASE("default service and router names", "[labels][defaults]") {
  struct Case {
    const char* what;
    std::string name;
    LabelMap labels;
    std::string expected;
    std::string rule;
  };
  const std::vector<Case> cases = {
      {"plain container", "my_app", {}, "my-app", "Host(`my-app`)"},
      {"compose service and project",
       "shop-web-1",
       {{"com.docker.compose.project", "shop"}, {"com.docker.compose.service", "web"}},
       "web-shop",
       "Host(`web-shop`)"},
      {"compose project alone is not compose naming",
       "shop-web-1",
       {{"com.docker.compose.project", "shop"}},
       "shop-web-1",
       "Host(`shop-web-1`)"},
      {"leading slash", "/legacy", {}, "legacy", "Host(`legacy`)"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      Result result = build_one(container(c.name, c.labels));
      INFO(dump(result));
      REQUIRE(result.configuration.http.services.size() == 1);
      CHECK(result.configuration.http.services.contains(c.expected));
      REQUIRE(result.configuration.http.routers.size() == 1);
      const auto& router = result.configuration.http.routers.at(c.expected);
      CHECK(router.rule == c.rule);
      CHECK(router.service == c.expected);
      CHECK(router.entry_points.empty());
      CHECK(server_urls(result, c.expected) == std::vector<std::string>{"http://172.18.0.2:80"});
      const auto* d = decision(result, c.name);
      REQUIRE(d != nullptr);
      CHECK(d->routed);
      CHECK(d->routers == std::vector<std::string>{c.expected});
      CHECK(d->services == std::vector<std::string>{c.expected});
    }
  }
}

TEST_CASE("router and service auto-creation", "[labels][defaults]") {
  SECTION("router labels, no service labels: default service, router linked to it") {
    Result result = build_one(container("app", {{"traefik.http.routers.r.rule", "Path(`/`)"}}));
    CHECK(result.configuration.http.services.contains("app"));
    REQUIRE(result.configuration.http.routers.size() == 1);
    CHECK(result.configuration.http.routers.at("r").service == "app");
  }
  SECTION("one service label, no router labels: default router to that service") {
    Result result = build_one(
        container("app", {{"traefik.http.services.api.loadbalancer.server.port", "8080"}}));
    REQUIRE(result.configuration.http.routers.contains("app"));
    CHECK(result.configuration.http.routers.at("app").service == "api");
    CHECK(result.configuration.http.routers.at("app").rule == "Host(`app`)");
    CHECK(server_urls(result, "api") == std::vector<std::string>{"http://172.18.0.2:8080"});
  }
  SECTION("two services, no router labels: no router") {
    Result result =
        build_one(container("app", {{"traefik.http.services.a.loadbalancer.server.port", "8080"},
                                    {"traefik.http.services.b.loadbalancer.server.port", "9090"}}));
    CHECK(result.configuration.http.routers.empty());
    CHECK(server_urls(result, "a") == std::vector<std::string>{"http://172.18.0.2:8080"});
    CHECK(server_urls(result, "b") == std::vector<std::string>{"http://172.18.0.2:9090"});
  }
  SECTION("two services and a router without service: the router is dropped") {
    Result result =
        build_one(container("app", {{"traefik.http.services.a.loadbalancer.server.port", "8080"},
                                    {"traefik.http.services.b.loadbalancer.server.port", "9090"},
                                    {"traefik.http.routers.r.rule", "Path(`/`)"},
                                    {"traefik.http.routers.s.rule", "Path(`/s`)"},
                                    {"traefik.http.routers.s.service", "b"}}));
    INFO(dump(result));
    CHECK_FALSE(result.configuration.http.routers.contains("r"));
    CHECK(result.configuration.http.routers.contains("s"));
    auto found = diagnostics_with(result, "names no service");
    REQUIRE(found.size() == 1);
    CHECK(found[0].name == "r");
    CHECK(found[0].resource == config::ResourceKind::router);
  }
  SECTION("a router with an empty rule gets the default rule") {
    Result result = build_one(container("app", {{"traefik.http.routers.r.priority", "5"}}));
    REQUIRE(result.configuration.http.routers.contains("r"));
    CHECK(result.configuration.http.routers.at("r").rule == "Host(`app`)");
  }
  SECTION("middleware labels alone still give the default router and service") {
    Result result =
        build_one(container("app", {{"traefik.http.middlewares.m.addprefix.prefix", "/a"}}));
    CHECK(result.configuration.http.routers.contains("app"));
    CHECK(result.configuration.http.services.contains("app"));
    CHECK(result.configuration.http.middlewares.contains("m"));
  }
}

TEST_CASE("default rule templates", "[labels][defaults]") {
  struct Case {
    const char* template_text;
    const char* expected;
  };
  const LabelMap labels = {{"com.docker.compose.project", "shop"},
                           {"com.docker.compose.service", "web"},
                           {"domain", "example.com"}};
  const std::vector<Case> cases = {
      {"Host(`{{ normalize .Name }}`)", "Host(`web-shop`)"},
      {"Host(`{{ .Name }}`)", "Host(`web_shop`)"},
      {"Host(`{{ .ContainerName }}`)", "Host(`shop_web_1`)"},
      {"Host(`{{ index .Labels \"domain\" }}`)", "Host(`example.com`)"},
      {"Host(`{{ .Labels.domain }}`)", "Host(`example.com`)"},
      {"Host(`{{ normalize .Name }}.{{ index .Labels \"domain\" }}`)",
       "Host(`web-shop.example.com`)"},
      {"Host(`{{ .Name | normalize }}`)", "Host(`web-shop`)"},
      {"Host(`{{ normalize (index .Labels \"com.docker.compose.service\") }}.local`)",
       "Host(`web.local`)"},
      {"Host(`{{ .Labels.missing | default \"fallback\" }}`)", "Host(`fallback`)"},
      {"Host(`{{ upper .Name }}`)", "Host(`WEB_SHOP`)"},
      {"Host(`{{- \" x \" | trim -}}`)", "Host(`x`)"},
      {"Host(`{{ trimPrefix \"web\" (normalize .Name) }}`)", "Host(`-shop`)"},
      {"Host(`{{ replace \"_\" \".\" .Name }}`)", "Host(`web.shop`)"},
      {"Host(`a`){{/* a comment */}}", "Host(`a`)"},
      {"PathPrefix(`/{{ `raw` }}`)", "PathPrefix(`/raw`)"},
  };
  for (const auto& c : cases) {
    SECTION(c.template_text) {
      ProviderOptions options;
      options.default_rule = c.template_text;
      Result result = build_one(container("shop_web_1", labels), options);
      INFO(dump(result));
      REQUIRE(result.configuration.http.routers.contains("web-shop"));
      CHECK(result.configuration.http.routers.at("web-shop").rule == c.expected);
    }
  }
}

TEST_CASE("unsupported default rule templates are router diagnostics", "[labels][defaults]") {
  const std::vector<const char*> templates = {
      "Host(`{{ if .Name }}x{{ end }}`)",
      "Host(`{{ .Nope }}`)",
      "Host(`{{ sha256 .Name }}`)",
      "Host(`{{ .Name `)",
      "Host(`{{ .Labels }}`)",
      "Host(`{{ index .Name \"x\" }}`)",
      "Host(`{{ normalize }}`)",
      "Host(`{{ (normalize .Name }}`)",
      "Host(`{{ \"unterminated }}`)",
      "Host(`{{ $x := .Name }}`)",
      "Host(`{{ .Name .Name }}`)",
      "Host(`{{}}`)",
      "{{ \"\" }}",
  };
  for (const char* text : templates) {
    SECTION(text) {
      ProviderOptions options;
      options.default_rule = text;
      Result result = build_one(container("app", {}), options);
      INFO(dump(result));
      CHECK(result.configuration.http.routers.empty());
      CHECK(result.configuration.http.services.contains("app"));
      REQUIRE(result.diagnostics.size() == 1);
      CHECK(result.diagnostics[0].resource == config::ResourceKind::router);
      CHECK(result.diagnostics[0].name == "app");
    }
  }
}

}  // namespace berth::labels::test
