#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {
namespace {

config::ForwardAuth forward_auth(std::string address = "http://auth.local:9000/verify?x=1") {
  config::ForwardAuth c;
  c.address = std::move(address);
  return c;
}

http::response<http::string_body> auth_answer(http::status status) {
  http::response<http::string_body> r{status, 11};
  return r;
}

}  // namespace

TEST_CASE("forwardAuth builds the auth request", "[middleware][forwardauth]") {
  auto c = forward_auth();
  auto chain = single(c);
  Exchange ex{request("/app/page?q=2", "app.example", http::verb::post)};
  ex.request.set(http::field::cookie, "session=1");
  ex.request.set(http::field::content_length, "12");
  ex.request.set(http::field::connection, "keep-alive, X-Hop");
  ex.request.set("X-Hop", "h");
  ex.request.set("X-Forwarded-For", "6.6.6.6");
  const auto decision = ex.run(*chain);
  REQUIRE(std::holds_alternative<ForwardAuthCall>(decision));
  const auto& call = std::get<ForwardAuthCall>(decision);
  CHECK(call.url == "http://auth.local:9000/verify?x=1");
  CHECK(call.tls == nullptr);
  const auto& out = call.request;
  CHECK(out.method() == http::verb::get);
  CHECK(std::string(out.target()) == "/verify?x=1");
  CHECK(field(out, "Host") == "auth.local:9000");
  CHECK(field(out, "Cookie") == "session=1");
  CHECK(out.find(http::field::content_length) == out.end());
  CHECK(out.find(http::field::connection) == out.end());
  CHECK(out.find("X-Hop") == out.end());
  CHECK(field(out, "X-Forwarded-For") == "192.0.2.10");
  CHECK(field(out, "X-Forwarded-Method") == "POST");
  CHECK(field(out, "X-Forwarded-Proto") == "http");
  CHECK(field(out, "X-Forwarded-Host") == "app.example");
  CHECK(field(out, "X-Forwarded-Uri") == "/app/page?q=2");
}

TEST_CASE("forwardAuth trustForwardHeader and authRequestHeaders", "[middleware][forwardauth]") {
  auto c = forward_auth();
  c.trust_forward_header = true;
  c.auth_request_headers = {"Cookie"};
  c.preserve_request_method = true;
  auto chain = single(c);
  Exchange ex{request("/x", "app.example", http::verb::put)};
  ex.request.set(http::field::cookie, "a=b");
  ex.request.set(http::field::authorization, "Bearer t");
  ex.request.set("X-Forwarded-For", "6.6.6.6");
  ex.request.set("X-Forwarded-Host", "front.example");
  ex.request.set("X-Forwarded-Proto", "https");
  const auto decision = ex.run(*chain);
  const auto& out = std::get<ForwardAuthCall>(decision).request;
  CHECK(out.method() == http::verb::put);
  CHECK(out.find(http::field::authorization) == out.end());
  CHECK(field(out, "Cookie") == "a=b");
  CHECK(field(out, "X-Forwarded-For") == "6.6.6.6, 192.0.2.10");
  CHECK(field(out, "X-Forwarded-Host") == "front.example");
  CHECK(field(out, "X-Forwarded-Proto") == "https");
}

TEST_CASE("forwardAuth 2xx copies the chosen headers onto the request",
          "[middleware][forwardauth]") {
  auto c = forward_auth();
  c.auth_response_headers = {"X-User"};
  c.auth_response_headers_regex = "^X-Role";
  c.add_auth_cookies_to_response = true;
  Definitions definitions{{"fa@docker", config::Middleware{c}},
                          {"p@docker", config::Middleware{config::AddPrefix{"/p"}}}};
  auto chain = build(definitions, {"fa", "p"});
  Exchange ex{request("/x")};
  ex.request.set("X-User", "forged");
  ex.request.set("X-Role-Admin", "forged");
  REQUIRE(std::holds_alternative<ForwardAuthCall>(ex.run(*chain)));

  auto answer = auth_answer(http::status::ok);
  answer.set("X-User", "alice");
  answer.insert("X-Role-Team", "ops");
  answer.set("X-Other", "no");
  answer.insert(http::field::set_cookie, "auth=1; Path=/");
  RequestContext context{ex.request, ex.client_ip, false, ex.state};
  // The chain continues with the next middleware after a successful auth.
  REQUIRE(proceeds(chain->on_forward_auth_response(context, answer)));
  CHECK(std::string(ex.request.target()) == "/p/x");
  CHECK(field(ex.request, "X-User") == "alice");
  CHECK(ex.request.find("X-Role-Admin") == ex.request.end());
  CHECK(field(ex.request, "X-Role-Team") == "ops");
  CHECK(ex.request.find("X-Other") == ex.request.end());

  ResponseHeader response;
  response.insert(http::field::set_cookie, "auth=backend");
  response.insert(http::field::set_cookie, "other=2");
  ResponseContext rctx{response, ex.request, ex.state, false};
  chain->on_response(rctx);
  std::vector<std::string> cookies;
  for (auto [it, end] = response.equal_range(http::field::set_cookie); it != end; ++it) {
    cookies.emplace_back(it->value());
  }
  CHECK(cookies == std::vector<std::string>{"other=2", "auth=1; Path=/"});
}

TEST_CASE("forwardAuth non-2xx goes back to the client", "[middleware][forwardauth]") {
  struct Case {
    const char* what;
    bool preserve_location;
    const char* location;
    const char* expected;
  };
  const Case cases[] = {
      {"absolute", false, "https://login.example/", "https://login.example/"},
      {"host-relative resolved", false, "/login", "http://auth.local:9000/login"},
      {"path-relative resolved", false, "login", "http://auth.local:9000/login"},
      {"preserved", true, "/login", "/login"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto config = forward_auth();
      config.preserve_location_header = c.preserve_location;
      auto chain = single(config);
      Exchange ex{request("/x")};
      REQUIRE(std::holds_alternative<ForwardAuthCall>(ex.run(*chain)));
      auto answer = auth_answer(http::status::found);
      answer.set(http::field::location, c.location);
      answer.set("X-Auth-Reason", "expired");
      answer.set(http::field::connection, "close");
      answer.body() = "go away";
      answer.prepare_payload();
      RequestContext context{ex.request, ex.client_ip, false, ex.state};
      const auto decision = chain->on_forward_auth_response(context, answer);
      const auto& response = responded(decision).response;
      CHECK(response.result() == http::status::found);
      CHECK(field(response, "Location") == c.expected);
      CHECK(field(response, "X-Auth-Reason") == "expired");
      CHECK(response.find(http::field::connection) == response.end());
      CHECK(response.body() == "go away");
      CHECK(field(response, "Content-Length") == "7");
    }
  }
}

TEST_CASE("forwardAuth unreachable answers 500", "[middleware][forwardauth]") {
  auto chain = single(forward_auth());
  Exchange ex{request("/x")};
  REQUIRE(std::holds_alternative<ForwardAuthCall>(ex.run(*chain)));
  RequestContext context{ex.request, ex.client_ip, false, ex.state};
  CHECK(responded(chain->on_forward_auth_error(context)).response.result_int() == 500);
}

TEST_CASE("forwardAuth rejects bad options", "[middleware][forwardauth]") {
  CHECK_THAT(build_error(forward_auth("")), Catch::Contains("invalid address \"\""));
  CHECK_THAT(build_error(forward_auth("ftp://x")), Catch::Contains("expected an http(s) URL"));
  auto regex = forward_auth();
  regex.auth_response_headers_regex = "(";
  CHECK_THAT(build_error(regex), Catch::StartsWith("authResponseHeadersRegex: invalid regexp"));
  auto body = forward_auth();
  body.forward_body = true;
  CHECK(build_error(body) == "forwardBody is not supported");
}

}  // namespace berth::middleware::test
