// The field arena under the heads the proxy parses: bump allocation in pooled blocks, large
// allocations on their own, everything back at reset, and copies that leave the arena.

#include <catch2/catch.hpp>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <string>

#include "berth/middleware/message.hpp"

namespace berth::middleware {
namespace {

char letter(std::size_t i) {
  return static_cast<char>('a' + i % 26);
}

/// A request with `count` fields `X-Field-<i>: <value_size bytes>`.
std::string request_with_fields(std::size_t count, std::size_t value_size) {
  std::string wire = "GET /some/path?q=1 HTTP/1.1\r\nHost: app.example\r\n";
  for (std::size_t i = 0; i < count; ++i) {
    wire += "X-Field-" + std::to_string(i) + ": " + std::string(value_size, letter(i)) + "\r\n";
  }
  return wire + "\r\n";
}

using ArenaParser = http::request_parser<http::empty_body, ArenaAllocator<char>>;

/// Parses `wire` into a head whose fields come from `arena`.
void parse(ArenaParser& parser, const std::string& wire) {
  boost::beast::error_code ec;
  parser.eager(true);
  parser.put(boost::asio::buffer(wire), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(parser.is_done());
}

ArenaParser arena_parser(FieldArena& arena) {
  return ArenaParser(std::piecewise_construct, std::make_tuple(),
                     std::make_tuple(ArenaAllocator<char>(arena)));
}

}  // namespace

TEST_CASE("the arena aligns every allocation as asked") {
  BlockPool pool(FieldArena::block_size, 4);
  FieldArena arena(pool);
  for (const std::size_t align : {1u, 2u, 4u, 8u, 16u}) {
    for (const std::size_t size : {1u, 3u, 7u, 24u, 100u}) {
      const auto at = reinterpret_cast<std::uintptr_t>(arena.allocate(size, align));
      INFO("size " << size << " align " << align);
      CHECK(at % align == 0);
    }
  }
}

TEST_CASE("small allocations share a block, which goes back to the pool at reset") {
  BlockPool pool(FieldArena::block_size, 4);
  FieldArena arena(pool);
  auto* first = static_cast<char*>(arena.allocate(100, 1));
  auto* second = static_cast<char*>(arena.allocate(100, 1));
  CHECK(second == first + 100);
  CHECK(pool.kept() == 0);
  arena.reset();
  CHECK(pool.kept() == 1);
  // The next exchange takes the same block.
  CHECK(static_cast<char*>(arena.allocate(100, 1)) == first);
  CHECK(pool.kept() == 0);
}

TEST_CASE("an allocation larger than a block gets one of its own, freed at reset") {
  BlockPool pool(FieldArena::block_size, 4);
  FieldArena arena(pool);
  auto* small = static_cast<char*>(arena.allocate(10, 1));
  auto* large = static_cast<char*>(arena.allocate(3 * FieldArena::block_size, 8));
  large[3 * FieldArena::block_size - 1] = 'x';
  // The pooled block stays the current one.
  CHECK(static_cast<char*>(arena.allocate(10, 1)) == small + 10);
  arena.reset();
  CHECK(pool.kept() == 1);
}

TEST_CASE("the pool keeps at most as many blocks as it was told") {
  BlockPool pool(FieldArena::block_size, 2);
  FieldArena arena(pool);
  for (int i = 0; i < 5; ++i) arena.allocate(FieldArena::block_size / 2, 1);
  arena.reset();
  CHECK(pool.kept() == 2);
}

TEST_CASE("a parsed head keeps its fields in the arena, across several blocks") {
  BlockPool pool(FieldArena::block_size, 8);
  FieldArena arena(pool);
  auto parser = arena_parser(arena);
  // 30 fields of 200 bytes need two blocks.
  parse(parser, request_with_fields(30, 200));
  const auto& request = parser.get();
  CHECK(request.get_allocator().arena() == &arena);
  CHECK(request.target() == "/some/path?q=1");
  CHECK(request[http::field::host] == "app.example");
  CHECK(request["X-Field-0"] == std::string(200, 'a'));
  CHECK(request["X-Field-29"] == std::string(200, letter(29)));
  CHECK(std::distance(request.begin(), request.end()) == 31);
}

TEST_CASE("a copy of an arena head is on the heap and outlives the exchange") {
  BlockPool pool(FieldArena::block_size, 8);
  RequestHeader copy;
  {
    FieldArena arena(pool);
    auto parser = arena_parser(arena);
    parse(parser, request_with_fields(3, 10));
    copy = parser.get().base();
    RequestHeader constructed(parser.get().base());
    CHECK(constructed.get_allocator().arena() == nullptr);
  }
  // The arena is gone and its block is back in the pool for the next exchange to overwrite.
  FieldArena next(pool);
  auto parser = arena_parser(next);
  parse(parser, request_with_fields(3, 20));
  CHECK(copy.get_allocator().arena() == nullptr);
  CHECK(copy.target() == "/some/path?q=1");
  CHECK(copy["X-Field-2"] == std::string(10, 'c'));
}

TEST_CASE("a head without an arena, and a middleware's own answer, use the heap") {
  RequestHeader request;
  request.set(http::field::host, "app.example");
  CHECK(request.get_allocator().arena() == nullptr);
  StringResponse response{http::status::ok, 11};
  response.set(http::field::content_type, "text/plain");
  response.body() = "ok";
  CHECK(response[http::field::content_type] == "text/plain");
}

}  // namespace berth::middleware
