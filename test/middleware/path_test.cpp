#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {

TEST_CASE("path rewriting middlewares edit the target as Traefik does", "[middleware][path]") {
  struct Case {
    const char* what;
    config::MiddlewareKind kind;
    const char* target;
    const char* expected_target;
    const char* header;  // header the middleware sets
    const char* header_value;
  };
  const Case cases[] = {
      {"addPrefix", config::AddPrefix{"/api"}, "/users?x=1", "/api/users?x=1", "", ""},
      {"addPrefix without slash", config::AddPrefix{"api"}, "/u", "/api/u", "", ""},
      {"stripPrefix", config::StripPrefix{{"/foo", "/bar"}, std::nullopt}, "/bar/baz?q", "/baz?q",
       "X-Forwarded-Prefix", "/bar"},
      {"stripPrefix whole path", config::StripPrefix{{"/foo"}, std::nullopt}, "/foo", "/",
       "X-Forwarded-Prefix", "/foo"},
      {"stripPrefix keeps a partial segment's rest", config::StripPrefix{{"/foo"}, std::nullopt},
       "/foobar", "/bar", "X-Forwarded-Prefix", "/foo"},
      {"stripPrefix forceSlash", config::StripPrefix{{"/foo/"}, true}, "/foo/", "/",
       "X-Forwarded-Prefix", "/foo/"},
      {"stripPrefix no match", config::StripPrefix{{"/foo"}, std::nullopt}, "/other", "/other", "",
       ""},
      {"stripPrefixRegex", config::StripPrefixRegex{{"/a/[0-9]+"}}, "/a/123/b", "/b",
       "X-Forwarded-Prefix", "/a/123"},
      {"stripPrefixRegex only at the start", config::StripPrefixRegex{{"/[0-9]+"}}, "/x/12/b",
       "/x/12/b", "", ""},
      {"replacePath", config::ReplacePath{"/new"}, "/old/path?k=v", "/new?k=v", "X-Replaced-Path",
       "/old/path"},
      {"replacePathRegex with $1", config::ReplacePathRegex{"^/foo/(.*)", "/bar/$1"}, "/foo/baz",
       "/bar/baz", "X-Replaced-Path", "/foo/baz"},
      {"replacePathRegex with ${name}",
       config::ReplacePathRegex{"^/(?P<v>v[0-9])/(.*)", "/${2}/${v}"}, "/v2/items", "/items/v2",
       "X-Replaced-Path", "/v2/items"},
      {"Go's $1x names a group called 1x", config::ReplacePathRegex{"^/(a)(.*)", "/$1x$2"}, "/abc",
       "/bc", "X-Replaced-Path", "/abc"},
      {"$$ is a dollar", config::ReplacePathRegex{"^/(a)", "/$$${1}"}, "/a", "/$a",
       "X-Replaced-Path", "/a"},
      {"replacePathRegex no match", config::ReplacePathRegex{"^/foo", "/bar"}, "/baz", "/baz", "",
       ""},
      {"absolute-form target", config::AddPrefix{"/p"}, "http://h.example/x?y",
       "http://h.example/p/x?y", "", ""},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto chain = single(c.kind);
      Exchange ex{request(c.target)};
      REQUIRE(proceeds(ex.run(*chain)));
      CHECK(std::string(ex.request.target()) == c.expected_target);
      if (*c.header != '\0') {
        CHECK(field(ex.request, c.header) == c.header_value);
      } else {
        CHECK(field(ex.request, "X-Forwarded-Prefix").empty());
        CHECK(field(ex.request, "X-Replaced-Path").empty());
      }
    }
  }
}

TEST_CASE("redirects answer with Traefik's status codes and Location", "[middleware][path]") {
  struct Case {
    const char* what;
    config::MiddlewareKind kind;
    http::verb method;
    const char* target;
    const char* host;
    bool tls;
    unsigned status;  // 0: the request goes on
    const char* location;
  };
  const Case cases[] = {
      {"scheme to https", config::RedirectScheme{"https", "", false}, http::verb::get, "/a?b=c",
       "example.com", false, 302, "https://example.com/a?b=c"},
      {"scheme permanent", config::RedirectScheme{"https", "", true}, http::verb::get, "/", "h",
       false, 301, "https://h/"},
      {"scheme permanent POST", config::RedirectScheme{"https", "", true}, http::verb::post, "/",
       "h", false, 308, "https://h/"},
      {"scheme temporary POST", config::RedirectScheme{"https", "", false}, http::verb::post, "/",
       "h", false, 307, "https://h/"},
      {"scheme with port", config::RedirectScheme{"https", "8443", false}, http::verb::get, "/x",
       "h:8080", false, 302, "https://h:8443/x"},
      {"default port dropped", config::RedirectScheme{"https", "443", false}, http::verb::get, "/",
       "h:80", false, 302, "https://h/"},
      {"already https", config::RedirectScheme{"https", "", false}, http::verb::get, "/", "h", true,
       0, ""},
      {"regex", config::RedirectRegex{"^http://localhost/(.*)", "http://mydomain/${1}", false},
       http::verb::get, "/path", "localhost", false, 302, "http://mydomain/path"},
      {"regex permanent", config::RedirectRegex{"^http://([^/]+)/old", "https://$1/new", true},
       http::verb::get, "/old", "a.b", false, 301, "https://a.b/new"},
      {"regex no match", config::RedirectRegex{"^https://", "http://x/", false}, http::verb::get,
       "/", "h", false, 0, ""},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto chain = single(c.kind);
      Exchange ex{request(c.target, c.host, c.method)};
      ex.tls = c.tls;
      const auto decision = ex.run(*chain);
      if (c.status == 0) {
        CHECK(proceeds(decision));
      } else {
        const auto& response = responded(decision).response;
        CHECK(response.result_int() == c.status);
        CHECK(field(response, "Location") == c.location);
        CHECK(response.body() == std::string(http::obsolete_reason(response.result())));
      }
    }
  }
}

TEST_CASE("X-Forwarded-Proto tells redirectScheme the client's scheme", "[middleware][path]") {
  auto chain = single(config::RedirectScheme{"https", "", false});
  Exchange ex{request("/", "h")};
  ex.request.set("X-Forwarded-Proto", "https");
  CHECK(proceeds(ex.run(*chain)));
}

TEST_CASE("path middlewares reject bad options", "[middleware][path]") {
  CHECK(build_error(config::AddPrefix{""}) == "prefix cannot be empty");
  CHECK(build_error(config::RedirectScheme{"", "", false}) == "you must provide a target scheme");
  CHECK_THAT(build_error(config::RedirectScheme{"https", "44x", false}),
             Catch::Contains("invalid port"));
  CHECK_THAT(build_error(config::RedirectRegex{"^(http", "x", false}),
             Catch::Contains("invalid regexp \"^(http\""));
  CHECK_THAT(build_error(config::ReplacePathRegex{"[", "/"}), Catch::Contains("invalid regexp"));
  CHECK_THAT(build_error(config::StripPrefixRegex{{"/ok", "(?P<"}}),
             Catch::Contains("invalid regexp"));
}

}  // namespace berth::middleware::test
