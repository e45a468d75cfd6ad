#include <catch2/catch.hpp>

#include <limits>
#include <sstream>

#include <boost/beast/http/write.hpp>

#include "wire.hpp"

using namespace berth::proxy;

namespace {

/// What Beast's own serializer writes for a head: the reference the proxy's writer must match.
template <bool IsRequest>
std::string beast_head(const http::header<IsRequest, Fields>& header) {
  std::ostringstream out;
  out << header;
  return out.str();
}

}  // namespace

TEST_CASE("a request head is written as Beast writes it") {
  struct Case {
    http::verb method;
    std::string_view target;
    unsigned version;
    std::vector<std::pair<std::string_view, std::string_view>> fields;
  };
  const auto c = GENERATE(
      Case{http::verb::get, "/", 11, {}},
      Case{http::verb::post,
           "/api/v1?x=1&y=%20",
           11,
           {{"Host", "app.example"}, {"X-Forwarded-For", "10.0.0.1, 10.0.0.2"}, {"x-custom", ""}}},
      Case{http::verb::options,
           "*",
           10,
           {{"Host", "h"}, {"Accept", "*/*"}, {"Accept", "text/html"}}},
      Case{http::verb::connect, "app.example:443", 11, {{"Host", "app.example:443"}}});
  RequestHeader header;
  header.method(c.method);
  header.target(c.target);
  header.version(c.version);
  for (const auto& [name, value] : c.fields) header.insert(name, value);

  std::string out = "kept";
  append_head(header, {}, out);
  CHECK(out == "kept" + beast_head(header));

  // Fields added on the way upstream come after the request's own, before the blank line.
  const std::array<berth::proxy::FieldLine, 2> extra{
      {{"X-Forwarded-For", "10.0.0.1"}, {"X-Real-Ip", "10.0.0.1"}}};
  out.clear();
  append_head(header, extra, out);
  const std::string own = beast_head(header);
  CHECK(out ==
        own.substr(0, own.size() - 2) + "X-Forwarded-For: 10.0.0.1\r\nX-Real-Ip: 10.0.0.1\r\n\r\n");
}

TEST_CASE("a response head keeps the upstream's reason phrase, or gets the standard one") {
  struct Case {
    unsigned status;
    std::string_view reason;
    unsigned version;
  };
  const auto c = GENERATE(Case{200, "", 11}, Case{200, "Fine", 11}, Case{404, "", 10},
                          Case{599, "", 11}, Case{101, "Switching Protocols", 11});
  ResponseHeader header;
  header.result(c.status);
  header.version(c.version);
  if (!c.reason.empty()) header.reason(c.reason);
  header.insert(http::field::content_length, "3");
  header.insert("Set-Cookie", "a=1");
  header.insert("Set-Cookie", "b=2");

  std::string out;
  append_head(header, out);
  CHECK(out == beast_head(header));
}

TEST_CASE("a chunk's size line is its length in lowercase hex") {
  struct Case {
    std::size_t size;
    std::string_view line;
  };
  const auto c = GENERATE(Case{0, "0\r\n"}, Case{1, "1\r\n"}, Case{15, "f\r\n"}, Case{16, "10\r\n"},
                          Case{16384, "4000\r\n"}, Case{0xabcdef, "abcdef\r\n"},
                          Case{std::numeric_limits<std::size_t>::max(), "ffffffffffffffff\r\n"});
  CHECK(ChunkSizeLine(c.size).view() == c.line);
}
