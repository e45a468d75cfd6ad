#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {

using namespace std::chrono_literals;

namespace {

struct Breaker {
  ManualClock clock;
  StateRegistry registry;
  std::shared_ptr<const Chain> chain;

  explicit Breaker(const std::string& expression) { rebuild(expression); }

  void rebuild(const std::string& expression) {
    config::CircuitBreaker c;
    c.expression = expression;
    chain = build({{"cb@docker", config::Middleware{c}}}, {"cb"},
                  Environment{clock.clock(), &registry});
  }

  /// One request; when let through, the backend answers `status` after `latency`. Returns the
  /// status the client gets.
  unsigned send(unsigned status = 200, std::chrono::milliseconds latency = 0ms) {
    Exchange ex{request("/")};
    const auto decision = ex.run(*chain);
    if (const auto* respond = std::get_if<Respond>(&decision)) {
      return respond->response.result_int();
    }
    clock.now += latency;
    ResponseHeader response;
    response.result(status);
    ResponseContext context{response, ex.request, ex.state, false};
    chain->on_response(context);
    return status;
  }
};

}  // namespace

TEST_CASE("circuitBreaker trips, falls back, recovers", "[middleware][circuitbreaker]") {
  Breaker b("NetworkErrorRatio() > 0.5");
  CHECK(b.send(200) == 200);
  b.clock.now += 100ms;
  CHECK(b.send(200) == 200);
  b.clock.now += 100ms;
  CHECK(b.send(502) == 502);  // 1 of 3: not yet
  b.clock.now += 100ms;
  CHECK(b.send(504) == 504);  // 2 of 4: not above 0.5
  b.clock.now += 100ms;
  CHECK(b.send(502) == 502);  // 3 of 5: trips
  CHECK(b.send() == 503);
  b.clock.now += 9s;
  CHECK(b.send() == 503);

  // Fallback over: recovering lets a growing share of requests through.
  b.clock.now += 1s;
  CHECK(b.send() == 503);  // the first request after the fallback starts the recovery
  int allowed = 0;
  b.clock.now += 5s;
  for (int i = 0; i < 100; ++i) allowed += b.send(200) == 200 ? 1 : 0;
  CHECK(allowed >= 45);
  CHECK(allowed <= 55);

  // Recovery over: closed again.
  b.clock.now += 6s;
  for (int i = 0; i < 10; ++i) CHECK(b.send(200) == 200);
}

TEST_CASE("circuitBreaker checks at most once per checkPeriod", "[middleware][circuitbreaker]") {
  Breaker b("NetworkErrorRatio() > 0.5");
  CHECK(b.send(200) == 200);  // checked now: 0 errors
  CHECK(b.send(502) == 502);
  CHECK(b.send(502) == 502);  // 2 of 3, but no check before 100 ms passed
  CHECK(b.send(200) == 200);
  b.clock.now += 100ms;
  CHECK(b.send(502) == 502);  // 3 of 5: now checked, trips
  CHECK(b.send() == 503);
}

TEST_CASE("circuitBreaker expressions", "[middleware][circuitbreaker]") {
  struct Case {
    const char* expression;
    unsigned status;
    std::chrono::milliseconds latency;
    bool trips;
  };
  const Case cases[] = {
      {"ResponseCodeRatio(500, 600, 0, 600) > 0.25", 500, 0ms, true},
      {"ResponseCodeRatio(500, 600, 0, 600) > 0.25", 404, 0ms, false},
      {"ResponseCodeRatio(400, 500, 0, 600) >= 0.5", 404, 0ms, true},
      {"LatencyAtQuantileMS(50.0) > 100", 200, 150ms, true},
      {"LatencyAtQuantileMS(50.0) > 100", 200, 50ms, false},
      {"NetworkErrorRatio() > 0.1 || LatencyAtQuantileMS(99) > 100", 502, 0ms, true},
      {"NetworkErrorRatio() > 0.1 && LatencyAtQuantileMS(99) > 100", 502, 0ms, false},
      {"(NetworkErrorRatio() < 0.1 || NetworkErrorRatio() > 0.9) && ResponseCodeRatio(500, 600, "
       "0, 600) == 1",
       502, 0ms, true},
  };
  for (const auto& c : cases) {
    SECTION(c.expression) {
      Breaker b(c.expression);
      // Two answers like this one, the second after a check period: the second is checked.
      b.send(c.status, c.latency);
      b.clock.now += 100ms;
      b.send(c.status, c.latency);
      CHECK((b.send() == 503) == c.trips);
    }
  }
}

TEST_CASE("an open breaker stays open across an unchanged rebuild", "[middleware][state]") {
  Breaker b("NetworkErrorRatio() > 0.5");
  b.send(502);
  REQUIRE(b.send() == 503);
  b.rebuild("NetworkErrorRatio() > 0.5");
  CHECK(b.send() == 503);
  b.rebuild("NetworkErrorRatio() > 0.6");
  CHECK(b.send() == 200);
}

TEST_CASE("circuitBreaker responseCode", "[middleware][circuitbreaker]") {
  ManualClock clock;
  config::CircuitBreaker c;
  c.expression = "NetworkErrorRatio() > 0";
  c.response_code = 429;
  auto chain = single(c, Environment{clock.clock(), nullptr});
  Exchange ex{request("/")};
  REQUIRE(proceeds(ex.run(*chain)));
  ResponseHeader response;
  response.result(502);
  ResponseContext context{response, ex.request, ex.state, false};
  chain->on_response(context);
  Exchange refused{request("/")};
  const auto& answer = responded(refused.run(*chain)).response;
  CHECK(answer.result_int() == 429);
  CHECK(answer.body() == "Too Many Requests");
}

TEST_CASE("circuitBreaker rejects bad expressions", "[middleware][circuitbreaker]") {
  struct Case {
    const char* expression;
    const char* error;
  };
  const Case cases[] = {
      {"", "empty expression"},
      {"NetworkErrorRatio()", "must be compared with a number"},
      {"NetworkErrorRatio() > ", "expected a number"},
      {"Foo() > 1", "unknown function \"Foo\""},
      {"ResponseCodeRatio(500, 600) > 0.5", "ResponseCodeRatio() takes 4 arguments"},
      {"NetworkErrorRatio() > 0.5 &&", "expected a function call"},
      {"(NetworkErrorRatio() > 0.5", "missing ')'"},
      {"NetworkErrorRatio() > 0.5 garbage", "unexpected \"garbage\""},
  };
  for (const auto& c : cases) {
    config::CircuitBreaker cb;
    cb.expression = c.expression;
    const auto error = build_error(cb);
    INFO(c.expression);
    CHECK_THAT(error, Catch::StartsWith("expression: ") && Catch::Contains(c.error));
  }
}

TEST_CASE("circuitBreaker durations that are not positive mean the defaults",
          "[middleware][circuitbreaker]") {
  ManualClock clock;
  config::CircuitBreaker c;
  c.expression = "NetworkErrorRatio() > 0.5";
  c.check_period = std::chrono::nanoseconds{0};
  c.fallback_duration = -std::chrono::seconds(1);
  auto chain = single(c, Environment{clock.clock(), nullptr});
  Exchange ex{request("/")};
  REQUIRE(proceeds(ex.run(*chain)));
  ResponseHeader response;
  response.result(502);
  ResponseContext context{response, ex.request, ex.state, false};
  chain->on_response(context);
  // Open for the default 10 s.
  clock.now += std::chrono::seconds(9);
  Exchange refused{request("/")};
  CHECK(std::holds_alternative<Respond>(refused.run(*chain)));
}

}  // namespace berth::middleware::test
