#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {

using namespace std::chrono_literals;

TEST_CASE("retry policy", "[middleware][retry]") {
  struct Case {
    const char* what;
    std::int64_t attempts;
    std::chrono::nanoseconds interval;
    std::int64_t attempt;
    bool network_error;
    bool started;
    std::optional<std::chrono::nanoseconds> expected;
  };
  const Case cases[] = {
      {"no interval retries at once", 3, 0ns, 1, true, false, 0ns},
      {"first wait is the initial interval", 3, 100ms, 1, true, false, 100ms},
      // The multiplier is 2^(1/(attempts-1)): sqrt(2) for 3 attempts.
      {"then it grows", 3, 100ms, 2, true, false, std::chrono::nanoseconds(141421356)},
      {"attempts exhausted", 3, 100ms, 3, true, false, std::nullopt},
      {"the backend answered", 3, 100ms, 1, false, false, std::nullopt},
      {"the client got bytes already", 3, 100ms, 1, true, true, std::nullopt},
      {"one attempt is no retry", 1, 100ms, 1, true, false, std::nullopt},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      const RetryPolicy policy(c.attempts, c.interval);
      const auto wait = policy.should_retry(c.attempt, c.network_error, c.started);
      REQUIRE(wait.has_value() == c.expected.has_value());
      if (wait) CHECK(std::chrono::abs(*wait - *c.expected) < 10ns);
    }
  }
}

TEST_CASE("retry rejects bad options", "[middleware][retry]") {
  CHECK(build_error(config::Retry{0, std::nullopt}) == "attempts must be greater than 0");
  CHECK(build_error(config::Retry{2, -1s}) == "initialInterval must not be negative");
}

TEST_CASE("buffering asks the proxy to buffer, or answers 413", "[middleware][buffering]") {
  config::Buffering c;
  c.max_request_body_bytes = 1000;
  c.mem_request_body_bytes = 500;
  c.max_response_body_bytes = 2000;
  c.retry_expression = "IsNetworkError() && Attempts() < 2";
  auto chain = single(c);

  Exchange small{request("/", "h", http::verb::post)};
  small.request.set(http::field::content_length, "999");
  const auto decision = small.run(*chain);
  REQUIRE(std::holds_alternative<BufferBody>(decision));
  const auto& buffer = std::get<BufferBody>(decision);
  CHECK(buffer.max_request_body_bytes == 1000);
  CHECK(buffer.mem_request_body_bytes == 500);
  CHECK(buffer.max_response_body_bytes == 2000);
  REQUIRE(buffer.retry != nullptr);
  CHECK(buffer.retry->should_retry(true, 1, 502));
  CHECK_FALSE(buffer.retry->should_retry(true, 2, 502));
  CHECK_FALSE(buffer.retry->should_retry(false, 1, 200));
  // After buffering the chain goes on.
  RequestContext context{small.request, small.client_ip, false, small.state};
  CHECK(proceeds(chain->resume(context)));

  Exchange large{request("/", "h", http::verb::post)};
  large.request.set(http::field::content_length, "1001");
  const auto& response = responded(large.run(*chain)).response;
  CHECK(response.result() == http::status::payload_too_large);

  CHECK(too_large_response().result_int() == 413);
}

TEST_CASE("buffering rejects bad options", "[middleware][buffering]") {
  config::Buffering negative;
  negative.max_request_body_bytes = -1;
  CHECK(build_error(negative) == "body sizes must not be negative");
  config::Buffering bad;
  bad.retry_expression = "IsNetworkError() > 1";
  CHECK_THAT(build_error(bad), Catch::Contains("retryExpression: IsNetworkError() cannot be"));
  bad.retry_expression = "Attempts()";
  CHECK_THAT(build_error(bad), Catch::Contains("must be compared"));
}

}  // namespace berth::middleware::test
