// The request path of an empty chain, and of middlewares that only look at a request, must not
// allocate, nor must parsing a head into a field arena: this executable counts every operator new
// meanwhile.
#include <catch2/catch.hpp>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "support.hpp"
#include "support/allocation_counter.hpp"

namespace berth::middleware::test {
namespace {

/// Allocations made by one request and response through `chain`.
std::size_t allocations_of(const Chain& chain, Exchange& ex, ResponseHeader& response) {
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
  ResponseHeader response;
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
    ResponseHeader response;
    allocations_of(*chain, warm, response);
  }
  Exchange ex{request("/x")};
  ResponseHeader response;
  CHECK(allocations_of(*chain, ex, response) == 0);
}

TEST_CASE("parsing heads into a field arena allocates nothing once its pool holds blocks",
          "[middleware][allocation]") {
  const std::string wire =
      "GET /index.html?page=2 HTTP/1.1\r\nHost: app.example\r\nUser-Agent: test/1.0\r\n"
      "Accept: */*\r\nAccept-Encoding: gzip, br\r\nCookie: session=abcdef0123456789\r\n"
      "X-Request-Id: 7d8e9f\r\n\r\n";
  BlockPool pool(FieldArena::block_size, 4);
  FieldArena arena(pool);
  std::size_t fields = 0;
  const auto parse_one = [&] {
    http::request_parser<http::empty_body, ArenaAllocator<char>> parser(
        std::piecewise_construct, std::make_tuple(), std::make_tuple(ArenaAllocator<char>(arena)));
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(wire), ec);
    fields = static_cast<std::size_t>(std::distance(parser.get().begin(), parser.get().end()));
  };
  // The first exchange takes a block from the heap; later ones take it back from the pool.
  parse_one();
  arena.reset();
  CHECK(berth::test::count_allocations([&] {
          for (int i = 0; i < 100; ++i) {
            parse_one();
            arena.reset();
          }
        }) == 0);
  CHECK(fields == 6);
  // The same head parsed on the heap does allocate: the counter sees the parser's allocations.
  CHECK(berth::test::count_allocations([&] {
          http::request_parser<http::empty_body> parser;
          boost::beast::error_code ec;
          parser.put(boost::asio::buffer(wire), ec);
        }) > 0);
}

}  // namespace berth::middleware::test
