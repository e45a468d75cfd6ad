#include <catch2/catch.hpp>

#include "berth/config/dynamic.hpp"

using namespace berth::config;

TEST_CASE("qualify adds the provider only to names without one") {
  CHECK(qualify("app", "docker") == "app@docker");
  CHECK(qualify("app@file", "docker") == "app@file");
  CHECK(qualify("api@internal", "docker") == "api@internal");
  CHECK(qualify("", "docker") == "@docker");
}

TEST_CASE("split_qualified splits at the first @") {
  CHECK(split_qualified("app@docker") == QualifiedName{"app", "docker"});
  CHECK(split_qualified("app") == QualifiedName{"app", ""});
  CHECK(split_qualified("app@") == QualifiedName{"app", ""});
  CHECK(split_qualified("@docker") == QualifiedName{"", "docker"});
  CHECK(split_qualified("a@b@c") == QualifiedName{"a", "b@c"});
}

TEST_CASE("add_qualified qualifies keys and unqualified references") {
  Configuration from;
  Router router;
  router.service = "app";
  router.middlewares = {"auth", "chain@file"};
  router.rule = "Host(`a`)";
  from.http.routers["web"] = router;
  from.http.services["app"] = Service{LoadBalancer{}};
  Weighted weighted;
  weighted.services = {{"app", 3}, {"other@file", std::nullopt}};
  from.http.services["split"] = Service{weighted};
  from.http.middlewares["auth"] = Middleware{BasicAuth{{"u:p"}, "", "", false, ""}};
  from.http.middlewares["both"] = Middleware{Chain{{"auth", "strip@file"}}};

  Configuration into;
  into.http.routers["existing@file"] = Router{};
  add_qualified(into, from, "docker");

  REQUIRE(into.http.routers.size() == 2);
  const Router& web = into.http.routers.at("web@docker");
  CHECK(web.service == "app@docker");
  CHECK(web.middlewares == StringList{"auth@docker", "chain@file"});
  CHECK(web.rule == "Host(`a`)");
  CHECK(into.http.routers.contains("existing@file"));
  CHECK(into.http.services.contains("app@docker"));
  const auto& split = std::get<Weighted>(into.http.services.at("split@docker").kind);
  CHECK(split.services[0].name == "app@docker");
  CHECK(split.services[0].weight == 3);
  CHECK(split.services[1].name == "other@file");
  CHECK(std::get<Chain>(into.http.middlewares.at("both@docker").kind).middlewares ==
        StringList{"auth@docker", "strip@file"});
  CHECK(into.http.middlewares.contains("auth@docker"));
  // The source is untouched.
  CHECK(from.http.routers.at("web").service == "app");
}

TEST_CASE("add_qualified leaves an empty router service empty") {
  Configuration from;
  from.http.routers["r"] = Router{};
  Configuration into;
  add_qualified(into, from, "docker");
  CHECK(into.http.routers.at("r@docker").service.empty());
}
