#include <catch2/catch.hpp>

#include <zlib.h>

#include "support.hpp"

namespace berth::middleware::test {
namespace {

std::string gunzip(const std::string& data) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - z.avail_out);
  }
  inflateEnd(&z);
  CHECK(rc == Z_STREAM_END);
  return out;
}

std::string text(std::size_t size) {
  std::string body;
  while (body.size() < size) body += "The quick brown fox jumps over the lazy dog. ";
  body.resize(size);
  return body;
}

struct Case {
  const char* what;
  config::Compress c;
  http::verb method = http::verb::get;
  const char* accept = "gzip, deflate, br";
  unsigned status = 200;
  const char* content_type = "text/html; charset=utf-8";
  const char* content_encoding = "";
  std::optional<std::size_t> content_length = 4096;
  bool compresses = true;
};

/// Runs the chain's response side on a backend answer; returns the compressor decision.
std::optional<GzipCompressor>& respond(const Chain& chain, const Case& c, Exchange& ex,
                                       ResponseHeader& response) {
  ex.request.method(c.method);
  if (*c.accept != '\0') ex.request.set(http::field::accept_encoding, c.accept);
  REQUIRE(proceeds(ex.run(chain)));
  response.result(c.status);
  if (*c.content_type != '\0') response.set(http::field::content_type, c.content_type);
  if (*c.content_encoding != '\0') response.set(http::field::content_encoding, c.content_encoding);
  if (c.content_length)
    response.set(http::field::content_length, std::to_string(*c.content_length));
  ResponseContext context{response, ex.request, ex.state, false};
  chain.on_response(context);
  return ex.state.compressor;
}

}  // namespace

TEST_CASE("compress decides like Traefik", "[middleware][compress]") {
  config::Compress json_only;
  json_only.included_content_types = {"application/json"};
  config::Compress no_text;
  no_text.excluded_content_types = {"text/html"};
  config::Compress br_only;
  br_only.encodings = {"br"};
  config::Compress gzip_default;
  gzip_default.default_encoding = "gzip";
  const Case cases[] = {
      {"plain gzip", {}},
      {"HEAD", {}, http::verb::head, "gzip", 200, "text/html", "", 4096, false},
      {"no Accept-Encoding", {}, http::verb::get, "", 200, "text/html", "", 4096, false},
      {"gzip refused by q=0",
       {},
       http::verb::get,
       "gzip;q=0, br",
       200,
       "text/html",
       "",
       4096,
       false},
      {"wildcard", {}, http::verb::get, "*", 200, "text/html", "", 4096, true},
      {"already encoded", {}, http::verb::get, "gzip", 200, "text/html", "br", 4096, false},
      {"switching protocols", {}, http::verb::get, "gzip", 101, "", "", std::nullopt, false},
      {"no content", {}, http::verb::get, "gzip", 204, "", "", std::nullopt, false},
      {"grpc never", {}, http::verb::get, "gzip", 200, "application/grpc", "", 4096, false},
      {"excluded type", no_text, http::verb::get, "gzip", 200, "text/html", "", 4096, false},
      {"not excluded", no_text, http::verb::get, "gzip", 200, "text/css", "", 4096, true},
      {"included type", json_only, http::verb::get, "gzip", 200, "application/json", "", 4096,
       true},
      {"not included", json_only, http::verb::get, "gzip", 200, "text/html", "", 4096, false},
      {"no Accept-Encoding, gzip as defaultEncoding", gzip_default, http::verb::get, "", 200,
       "text/html", "", 4096, true},
      {"gzip not among encodings", br_only, http::verb::get, "gzip", 200, "text/html", "", 4096,
       false},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto chain = single(c.c);
      Exchange ex{request("/")};
      ResponseHeader response;
      auto& compressor = respond(*chain, c, ex, response);
      CHECK(compressor.has_value() == c.compresses);
      if (compressor) {
        CHECK(compressor->state() == GzipCompressor::State::compressing);
        CHECK(field(response, "Vary") == "Accept-Encoding");
      }
    }
  }
}

TEST_CASE("gzip round trip through the streaming compressor", "[middleware][compress]") {
  auto chain = single(config::Compress{});
  Exchange ex{request("/")};
  ResponseHeader response;
  const std::string body = text(100000);
  auto& compressor = respond(*chain, Case{"", {}}, ex, response);
  REQUIRE(compressor);
  compressor->apply_headers(response);
  CHECK(field(response, "Content-Encoding") == "gzip");
  CHECK(response.find(http::field::content_length) == response.end());
  std::string out;
  for (std::size_t i = 0; i < body.size(); i += 7000) {
    compressor->write(std::string_view(body).substr(i, 7000), out, i == 14000);
  }
  compressor->finish(out);
  CHECK(out.size() < body.size() / 10);
  CHECK(gunzip(out) == body);
}

TEST_CASE("minResponseBodyBytes", "[middleware][compress]") {
  SECTION("a known short length is sent as it is") {
    auto chain = single(config::Compress{});
    Exchange ex{request("/")};
    ResponseHeader response;
    Case c{"", {}};
    c.content_length = 1023;
    auto& compressor = respond(*chain, c, ex, response);
    REQUIRE(compressor);
    CHECK(compressor->state() == GzipCompressor::State::passthrough);
    compressor->apply_headers(response);
    CHECK(response.find(http::field::content_encoding) == response.end());
    std::string out;
    compressor->write("abc", out);
    compressor->finish(out);
    CHECK(out == "abc");
  }
  SECTION("a configured threshold") {
    config::Compress small;
    small.min_response_body_bytes = 100;
    auto chain = single(small);
    Exchange ex{request("/")};
    ResponseHeader response;
    Case c{"", {}};
    c.content_length = 150;
    auto& compressor = respond(*chain, c, ex, response);
    REQUIRE(compressor);
    CHECK(compressor->state() == GzipCompressor::State::compressing);
  }
  SECTION("unknown length: held until the threshold") {
    GzipCompressor compressor(100, std::nullopt);
    std::string out;
    compressor.write(text(60), out);
    CHECK(compressor.state() == GzipCompressor::State::pending);
    CHECK(out.empty());
    compressor.write(text(60), out);
    CHECK(compressor.state() == GzipCompressor::State::compressing);
    compressor.finish(out);
    CHECK(gunzip(out) == text(60) + text(60));
  }
  SECTION("unknown length that ends short") {
    GzipCompressor compressor(1024, std::nullopt);
    std::string out;
    compressor.write("short", out);
    compressor.finish(out);
    CHECK(compressor.state() == GzipCompressor::State::passthrough);
    CHECK(out == "short");
  }
}

TEST_CASE("compress rejects bad options", "[middleware][compress]") {
  config::Compress both;
  both.excluded_content_types = {"a/b"};
  both.included_content_types = {"c/d"};
  CHECK_THAT(build_error(both), Catch::Contains("mutually exclusive"));
  config::Compress unknown;
  unknown.encodings = {"gzip", "lzma"};
  CHECK(build_error(unknown) == "unsupported encoding: lzma");
  config::Compress default_not_listed;
  default_not_listed.encodings = {"br"};
  default_not_listed.default_encoding = "gzip";
  CHECK(build_error(default_not_listed) == "unsupported default encoding: gzip");
}

}  // namespace berth::middleware::test
