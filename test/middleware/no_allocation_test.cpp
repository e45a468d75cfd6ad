// The request path of an empty chain, and of middlewares that only look at a request, must not
// allocate: this executable counts every operator new while a flag is set.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace berth::middleware::test {
namespace {

/// Allocations made by one request and response through `chain`.
std::size_t allocations_of(const Chain& chain, Exchange& ex, http::response_header<>& response) {
  allocations = 0;
  counting = true;
  const auto decision = ex.run(chain);
  const bool proceeded = std::holds_alternative<Proceed>(decision);
  ResponseContext context{response, ex.request, ex.state, false};
  chain.on_response(context);
  counting = false;
  CHECK(proceeded);
  return allocations.load();
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
