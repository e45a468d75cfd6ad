#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {

TEST_CASE("an empty chain proceeds untouched", "[middleware][chain]") {
  const Chain chain;
  Exchange ex{request("/x")};
  const auto decision = ex.run(chain);
  REQUIRE(proceeds(decision));
  CHECK(std::get<Proceed>(decision).delay.count() == 0);
  CHECK(std::string(ex.request.target()) == "/x");
  CHECK(chain.retry() == nullptr);
}

TEST_CASE("middlewares apply in the order listed, chains expand in place", "[middleware][chain]") {
  Definitions definitions{
      {"a@docker", config::Middleware{config::AddPrefix{"/a"}}},
      {"b@docker", config::Middleware{config::AddPrefix{"/b"}}},
      {"c@file", config::Middleware{config::AddPrefix{"/c"}}},
      {"both@docker", config::Middleware{config::Chain{{"b", "c@file"}}}},
  };
  auto chain = build(definitions, {"a", "both@docker"});
  CHECK(chain->size() == 3);
  Exchange ex{request("/x")};
  REQUIRE(proceeds(ex.run(*chain)));
  // a runs first, so the later prefixes end up in front of it.
  CHECK(std::string(ex.request.target()) == "/c/b/a/x");
}

TEST_CASE("response sides run last first and see answers of later middlewares",
          "[middleware][chain]") {
  config::Headers outer;
  outer.custom_response_headers = {{"X-Order", "outer"}};
  config::Headers inner;
  inner.custom_response_headers = {{"X-Order", "inner"}, {"X-Inner", "1"}};
  config::BasicAuth auth;
  auth.users = {"u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="};
  Definitions definitions{{"outer@docker", config::Middleware{outer}},
                          {"inner@docker", config::Middleware{inner}},
                          {"auth@docker", config::Middleware{auth}}};
  SECTION("backend response") {
    auto chain = build(definitions, {"outer", "inner"});
    Exchange ex{request("/")};
    REQUIRE(proceeds(ex.run(*chain)));
    ResponseHeader response;
    ResponseContext context{response, ex.request, ex.state, false};
    chain->on_response(context);
    CHECK(field(response, "X-Order") == "outer");
    CHECK(field(response, "X-Inner") == "1");
  }
  SECTION("a middleware's own answer passes only through those before it") {
    auto chain = build(definitions, {"outer", "auth", "inner"});
    Exchange ex{request("/")};
    auto decision = ex.run(*chain);
    auto& response = std::get<Respond>(decision).response;
    ResponseContext context{response.base(), ex.request, ex.state, false};
    chain->on_response(context);
    CHECK(response.result() == http::status::unauthorized);
    CHECK(field(response, "X-Order") == "outer");
    CHECK(response.find("X-Inner") == response.end());
  }
}

TEST_CASE("missing and broken middlewares are reported per middleware", "[middleware][chain]") {
  Definitions definitions{
      {"ok@docker", config::Middleware{config::AddPrefix{"/a"}}},
      {"bad@docker", config::Middleware{config::RedirectRegex{"(", "", false}}},
      {"loop@docker", config::Middleware{config::Chain{{"loop2"}}}},
      {"loop2@docker", config::Middleware{config::Chain{{"loop"}}}},
      {"wrap@docker", config::Middleware{config::Chain{{"ok", "gone"}}}},
  };
  const std::vector<std::string> names{"ok", "bad", "missing@docker", "loop", "wrap"};
  const auto result = build_chain(names, "docker", definitions, {});
  CHECK_FALSE(result.chain);
  REQUIRE(result.errors.size() == 4);
  CHECK(result.errors[0].middleware == "bad@docker");
  CHECK_THAT(result.errors[0].message, Catch::StartsWith("invalid regexp \"(\""));
  CHECK(result.errors[1] ==
        MiddlewareError{"missing@docker", "middleware \"missing@docker\" does not exist"});
  CHECK(result.errors[2] ==
        MiddlewareError{"loop@docker", "recursion detected in chain \"loop@docker\""});
  CHECK(result.errors[3] ==
        MiddlewareError{"gone@docker", "middleware \"gone@docker\" does not exist"});
}

TEST_CASE("the first retry middleware gives the chain's retry policy", "[middleware][chain]") {
  Definitions definitions{{"r@docker", config::Middleware{config::Retry{3, std::nullopt}}},
                          {"p@docker", config::Middleware{config::AddPrefix{"/p"}}}};
  auto chain = build(definitions, {"p", "r"});
  REQUIRE(chain->retry() != nullptr);
  CHECK(chain->retry()->attempts() == 3);
}

TEST_CASE("chain_factory feeds the snapshot builder", "[middleware][chain]") {
  Definitions definitions{
      {"a@docker", config::Middleware{config::AddPrefix{"/a"}}},
      {"none@docker", config::Middleware{config::Chain{}}},
      {"bad@docker", config::Middleware{config::RedirectScheme{}}},
  };
  StateRegistry registry;
  const auto factory = chain_factory(Environment{.registry = &registry});

  const std::vector<std::string> good{"a@docker"};
  auto built = factory(good, "docker", definitions);
  CHECK(built.errors.empty());
  REQUIRE(built.chain);
  const auto* chain = dynamic_cast<const Chain*>(built.chain.get());
  REQUIRE(chain != nullptr);
  CHECK(chain->size() == 1);

  // Nothing to run: no chain, so the route costs nothing.
  const std::vector<std::string> empty{"none"};
  built = factory(empty, "docker", definitions);
  CHECK(built.errors.empty());
  CHECK(built.chain == nullptr);

  const std::vector<std::string> broken{"a", "bad", "gone"};
  built = factory(broken, "docker", definitions);
  CHECK(built.chain == nullptr);
  REQUIRE(built.errors.size() == 2);
  CHECK(built.errors[0].starts_with("middleware \"bad@docker\": "));
  CHECK(built.errors[1] == "middleware \"gone@docker\" does not exist");
}

}  // namespace berth::middleware::test
