// The request path of an empty chain, and of middlewares that only look at a request, must not
// allocate: this executable counts every operator new meanwhile.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "support/allocation_counter.hpp"

namespace berth::middleware::test {
namespace {

/// Allocations made by one request and response through `chain`.
std::size_t allocations_of(const Chain& chain, Exchange& ex, http::response_header<>& response) {
  bool proceeded = false;
  const std::size_t allocations = berth::test::count_allocations([&] {
    const auto decision = ex.run(chain);
    proceeded = std::holds_alternative<Proceed>(decision);
    ResponseContext context{response, ex.request, ex.state, false};
    chain.on_response(context);
  });
  CHECK(proceeded);
  return allocations;
}

}  // namespace

TEST_CASE("an empty chain allocates nothing", "[middleware][allocation]") {
  const Chain chain;
  Exchange ex{request("/x")};
  http::response_header<> response;
  CHECK(allocations_of(chain, ex, response) == 0);
}

TEST_CASE("checking middlewares allocate nothing per request", "[middleware][allocation]") {
  ManualClock clock;
  config::IpAllowList allow;
  allow.source_range = {"192.0.2.0/24", "2001:db8::/32"};
  config::RateLimit rate;
  rate.average = 1000;
  rate.burst = 1000;
  Definitions definitions{{"allow@docker", config::Middleware{allow}},
                          {"rate@docker", config::Middleware{rate}},
                          {"retry@docker", config::Middleware{config::Retry{3, std::nullopt}}}};
  auto chain = build(definitions, {"allow", "rate", "retry"}, Environment{clock.clock(), nullptr});
  {
    // The first request from a source creates its bucket.
    Exchange warm{request("/x")};
    http::response_header<> response;
    allocations_of(*chain, warm, response);
  }
  Exchange ex{request("/x")};
  http::response_header<> response;
  CHECK(allocations_of(*chain, ex, response) == 0);
}

}  // namespace berth::middleware::test
