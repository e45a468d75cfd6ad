#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {

using namespace std::chrono_literals;

namespace {

config::RateLimit rate(std::int64_t average, std::int64_t burst,
                       std::optional<config::Duration> period = std::nullopt) {
  config::RateLimit r;
  r.average = average;
  r.burst = burst;
  r.period = period;
  return r;
}

}  // namespace

TEST_CASE("rateLimit is a token bucket per client IP", "[middleware][ratelimit]") {
  ManualClock clock;
  Environment env{clock.clock(), nullptr};
  // 10 per second: a token every 100 ms; up to 50 ms of waiting is tolerated.
  auto chain = single(rate(10, 3), env);
  auto send = [&](const char* ip = "192.0.2.10") {
    Exchange ex{request("/")};
    ex.client_ip = ip;
    return ex.run(*chain);
  };
  for (int i = 0; i < 3; ++i) CHECK(proceeds(send()));

  const auto refused = send();
  const auto& response = responded(refused).response;
  CHECK(response.result() == http::status::too_many_requests);
  CHECK(field(response, "Retry-After") == "1");  // rounded up
  CHECK(field(response, "X-Retry-In") == "100ms");

  SECTION("another client has its own bucket") {
    CHECK(proceeds(send("192.0.2.99")));
  }
  SECTION("a token comes back after 1/average") {
    clock.now += 100ms;
    CHECK(proceeds(send()));
    CHECK(std::holds_alternative<Respond>(send()));
  }
  SECTION("within the tolerated delay the request waits instead") {
    clock.now += 60ms;
    const auto decision = send();
    REQUIRE(proceeds(decision));
    CHECK(std::get<Proceed>(decision).delay == 40ms);
  }
  SECTION("the bucket fills up to burst only") {
    clock.now += 10s;
    for (int i = 0; i < 3; ++i) CHECK(proceeds(send()));
    CHECK(std::holds_alternative<Respond>(send()));
  }
}

TEST_CASE("rateLimit period and Retry-After in seconds", "[middleware][ratelimit]") {
  ManualClock clock;
  Environment env{clock.clock(), nullptr};
  // 6 per minute: one every 10 s.
  auto chain = single(rate(6, 1, 1min), env);
  Exchange first{request("/")};
  CHECK(proceeds(first.run(*chain)));
  Exchange second{request("/")};
  const auto& response = responded(second.run(*chain)).response;
  CHECK(field(response, "Retry-After") == "10");
  clock.now += 10s;
  Exchange third{request("/")};
  CHECK(proceeds(third.run(*chain)));
}

TEST_CASE("rateLimit sourceCriterion", "[middleware][ratelimit]") {
  ManualClock clock;
  Environment env{clock.clock(), nullptr};
  SECTION("by request header") {
    auto r = rate(1, 1);
    r.source_criterion = config::SourceCriterion{std::nullopt, "X-User", false};
    auto chain = single(r, env);
    Exchange a{request("/")};
    a.request.set("X-User", "a");
    CHECK(proceeds(a.run(*chain)));
    Exchange b{request("/")};
    b.request.set("X-User", "b");
    CHECK(proceeds(b.run(*chain)));
    Exchange a2{request("/")};
    a2.request.set("X-User", "a");
    CHECK(std::holds_alternative<Respond>(a2.run(*chain)));
  }
  SECTION("by host") {
    auto r = rate(1, 1);
    r.source_criterion = config::SourceCriterion{std::nullopt, "", true};
    auto chain = single(r, env);
    Exchange a{request("/", "a.example")};
    CHECK(proceeds(a.run(*chain)));
    Exchange b{request("/", "b.example")};
    CHECK(proceeds(b.run(*chain)));
    Exchange a2{request("/", "a.example")};
    CHECK(std::holds_alternative<Respond>(a2.run(*chain)));
  }
  SECTION("by X-Forwarded-For depth") {
    auto r = rate(1, 1);
    r.source_criterion = config::SourceCriterion{config::IpStrategy{1, {}, 0}, "", false};
    auto chain = single(r, env);
    Exchange a{request("/")};
    a.request.set("X-Forwarded-For", "1.1.1.1");
    CHECK(proceeds(a.run(*chain)));
    Exchange b{request("/")};
    b.request.set("X-Forwarded-For", "2.2.2.2");
    CHECK(proceeds(b.run(*chain)));
  }
}

TEST_CASE("rateLimit with average 0 does not limit", "[middleware][ratelimit]") {
  auto chain = single(rate(0, 0));
  for (int i = 0; i < 100; ++i) {
    Exchange ex{request("/")};
    REQUIRE(proceeds(ex.run(*chain)));
  }
}

TEST_CASE("inFlightReq limits concurrent requests per source", "[middleware][inflight]") {
  config::InFlightReq c;
  c.amount = 2;
  auto chain = single(c);
  Exchange one{request("/")};
  Exchange two{request("/")};
  REQUIRE(proceeds(one.run(*chain)));
  REQUIRE(proceeds(two.run(*chain)));
  {
    Exchange three{request("/")};
    const auto& response = responded(three.run(*chain)).response;
    CHECK(response.result() == http::status::too_many_requests);
    Exchange elsewhere{request("/")};
    elsewhere.client_ip = "198.51.100.1";
    CHECK(proceeds(elsewhere.run(*chain)));
  }
  // The first request ends: its slot is free again.
  one.state = RequestState{};
  Exchange four{request("/")};
  CHECK(proceeds(four.run(*chain)));
}

TEST_CASE("limits reject bad options", "[middleware][ratelimit]") {
  CHECK(build_error(rate(-1, 1)) == "average must not be negative");
  CHECK(build_error(rate(1, -1)) == "burst must not be negative");
  CHECK(build_error(rate(1, 1, -1s)) == "period must not be negative");
  auto both = rate(1, 1);
  both.source_criterion = config::SourceCriterion{config::IpStrategy{}, "X-User", false};
  CHECK_THAT(build_error(both), Catch::Contains("mutually exclusive"));
  config::InFlightReq zero;
  CHECK(build_error(zero) == "amount must be greater than 0");
}

TEST_CASE("limit state survives a rebuild with an unchanged definition", "[middleware][state]") {
  ManualClock clock;
  StateRegistry registry;
  Environment env{clock.clock(), &registry};
  Definitions definitions{{"rl@docker", config::Middleware{rate(1, 1)}}};
  auto first = build(definitions, {"rl@docker"}, env);
  Exchange used{request("/")};
  REQUIRE(proceeds(used.run(*first)));

  SECTION("same definition: the bucket is still empty") {
    auto second = build(definitions, {"rl@docker"}, env);
    first.reset();
    Exchange ex{request("/")};
    CHECK(std::holds_alternative<Respond>(ex.run(*second)));
  }
  SECTION("changed definition: a fresh bucket") {
    Definitions changed{{"rl@docker", config::Middleware{rate(1, 2)}}};
    auto second = build(changed, {"rl@docker"}, env);
    Exchange ex{request("/")};
    CHECK(proceeds(ex.run(*second)));
  }
  SECTION("state no chain uses is swept") {
    first.reset();
    registry.sweep();
    CHECK(registry.size() == 0);
  }
}

TEST_CASE("in-flight counts survive a rebuild", "[middleware][state]") {
  StateRegistry registry;
  Environment env{};
  env.registry = &registry;
  config::InFlightReq c;
  c.amount = 1;
  Definitions definitions{{"f@docker", config::Middleware{c}}};
  auto first = build(definitions, {"f"}, env);
  Exchange running{request("/")};
  REQUIRE(proceeds(running.run(*first)));
  auto second = build(definitions, {"f"}, env);
  Exchange ex{request("/")};
  CHECK(std::holds_alternative<Respond>(ex.run(*second)));
}

}  // namespace berth::middleware::test
