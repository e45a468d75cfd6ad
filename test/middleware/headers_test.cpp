#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {

namespace {

ResponseHeader backend_response() {
  ResponseHeader r;
  r.version(11);
  r.result(http::status::ok);
  r.set(http::field::content_type, "text/html");
  r.set("X-Powered-By", "php");
  return r;
}

/// Runs the request side, then the response side on a backend answer.
ResponseHeader exchange(const Chain& chain, Exchange& ex) {
  REQUIRE(proceeds(ex.run(chain)));
  auto response = backend_response();
  ResponseContext context{response, ex.request, ex.state, ex.tls};
  chain.on_response(context);
  return response;
}

}  // namespace

TEST_CASE("custom headers are set, and removed when empty", "[middleware][headers]") {
  config::Headers c;
  c.custom_request_headers = {{"X-Script-Name", "test"}, {"X-Remove", ""}};
  c.custom_response_headers = {{"X-Custom-Response", "1"}, {"X-Powered-By", ""}};
  auto chain = single(c);
  Exchange ex{request("/")};
  ex.request.set("X-Remove", "gone");
  ex.request.set("X-Script-Name", "old");
  const auto response = exchange(*chain, ex);
  CHECK(field(ex.request, "X-Script-Name") == "test");
  CHECK(ex.request.find("X-Remove") == ex.request.end());
  CHECK(field(response, "X-Custom-Response") == "1");
  CHECK(response.find("X-Powered-By") == response.end());
}

TEST_CASE("security headers", "[middleware][headers]") {
  struct Case {
    const char* what;
    config::Headers c;
    bool tls;
    const char* name;
    const char* value;  // "" means absent
  };
  config::Headers sts;
  sts.sts_seconds = 31536000;
  sts.sts_include_subdomains = true;
  sts.sts_preload = true;
  config::Headers forced = sts;
  forced.force_sts_header = true;
  config::Headers frame;
  frame.frame_deny = true;
  config::Headers custom_frame;
  custom_frame.frame_deny = true;
  custom_frame.custom_frame_options_value = "SAMEORIGIN";
  config::Headers misc;
  misc.content_type_nosniff = true;
  misc.browser_xss_filter = true;
  misc.referrer_policy = "no-referrer";
  misc.content_security_policy = "default-src 'self'";
  misc.permissions_policy = "camera=()";
  const Case cases[] = {
      {"STS over TLS", sts, true, "Strict-Transport-Security",
       "max-age=31536000; includeSubDomains; preload"},
      {"no STS over plain HTTP", sts, false, "Strict-Transport-Security", ""},
      {"forced STS", forced, false, "Strict-Transport-Security",
       "max-age=31536000; includeSubDomains; preload"},
      {"frameDeny", frame, false, "X-Frame-Options", "DENY"},
      {"customFrameOptionsValue", custom_frame, false, "X-Frame-Options", "SAMEORIGIN"},
      {"nosniff", misc, false, "X-Content-Type-Options", "nosniff"},
      {"xss", misc, false, "X-XSS-Protection", "1; mode=block"},
      {"referrer", misc, false, "Referrer-Policy", "no-referrer"},
      {"csp", misc, false, "Content-Security-Policy", "default-src 'self'"},
      {"permissions", misc, false, "Permissions-Policy", "camera=()"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto chain = single(c.c);
      Exchange ex{request("/")};
      ex.tls = c.tls;
      const auto response = exchange(*chain, ex);
      CHECK(field(response, c.name) == c.value);
    }
  }
}

TEST_CASE("sslProxyHeaders mark a request as HTTPS for STS", "[middleware][headers]") {
  config::Headers c;
  c.sts_seconds = 60;
  c.ssl_proxy_headers = {{"X-Forwarded-Proto", "https"}};
  auto chain = single(c);
  Exchange ex{request("/")};
  ex.request.set("X-Forwarded-Proto", "https");
  CHECK(field(exchange(*chain, ex), "Strict-Transport-Security") == "max-age=60");
}

TEST_CASE("CORS preflight is answered by the middleware", "[middleware][headers]") {
  config::Headers c;
  c.access_control_allow_methods = {"GET", "OPTIONS", "PUT"};
  c.access_control_allow_headers = {"X-A", "X-B"};
  c.access_control_allow_origin_list = {"https://a.example"};
  c.access_control_max_age = 100;
  c.access_control_allow_credentials = true;
  auto chain = single(c);

  Exchange ex{request("/", "h", http::verb::options)};
  ex.request.set("Origin", "https://a.example");
  ex.request.set("Access-Control-Request-Method", "PUT");
  const auto& response = responded(ex.run(*chain)).response;
  CHECK(response.result() == http::status::ok);
  CHECK(field(response, "Access-Control-Allow-Methods") == "GET,OPTIONS,PUT");
  CHECK(field(response, "Access-Control-Allow-Headers") == "X-A,X-B");
  CHECK(field(response, "Access-Control-Allow-Origin") == "https://a.example");
  CHECK(field(response, "Access-Control-Allow-Credentials") == "true");
  CHECK(field(response, "Access-Control-Max-Age") == "100");

  SECTION("an origin not listed gets no Allow-Origin") {
    Exchange other{request("/", "h", http::verb::options)};
    other.request.set("Origin", "https://evil.example");
    other.request.set("Access-Control-Request-Method", "PUT");
    const auto& denied = responded(other.run(*chain)).response;
    CHECK(denied.find("Access-Control-Allow-Origin") == denied.end());
  }
  SECTION("OPTIONS without Access-Control-Request-Method goes to the backend") {
    Exchange plain{request("/", "h", http::verb::options)};
    plain.request.set("Origin", "https://a.example");
    CHECK(proceeds(plain.run(*chain)));
  }
}

TEST_CASE("CORS response headers on normal requests", "[middleware][headers]") {
  config::Headers c;
  c.access_control_allow_origin_list_regex = {"^https://.*\\.example\\.org$"};
  c.access_control_expose_headers = {"X-Total"};
  c.add_vary_header = true;
  auto chain = single(c);
  Exchange ex{request("/")};
  ex.request.set("Origin", "https://app.example.org");
  const auto response = exchange(*chain, ex);
  CHECK(field(response, "Access-Control-Allow-Origin") == "https://app.example.org");
  CHECK(field(response, "Access-Control-Expose-Headers") == "X-Total");
  CHECK(field(response, "Vary") == "Origin");

  config::Headers star;
  star.access_control_allow_origin_list = {"*"};
  auto star_chain = single(star);
  Exchange any{request("/")};
  any.request.set("Origin", "https://x");
  CHECK(field(exchange(*star_chain, any), "Access-Control-Allow-Origin") == "*");
}

TEST_CASE("allowedHosts refuses other hosts", "[middleware][headers]") {
  config::Headers c;
  c.allowed_hosts = {"good.example"};
  auto chain = single(c);
  Exchange good{request("/", "good.example")};
  CHECK(proceeds(good.run(*chain)));
  Exchange bad{request("/", "bad.example")};
  CHECK(responded(bad.run(*chain)).response.body() == "Bad Host\n");
}

TEST_CASE("headers reject bad options", "[middleware][headers]") {
  config::Headers c;
  c.access_control_allow_origin_list_regex = {"("};
  CHECK_THAT(build_error(c), Catch::Contains("invalid regexp \"(\""));
}

}  // namespace berth::middleware::test
