#include <catch2/catch.hpp>

#include "berth/runtime/sticky.hpp"

namespace runtime = berth::runtime;

TEST_CASE("default cookie names follow Traefik's cookie.GenerateName") {
  struct Case {
    std::string_view service;
    std::string_view expected;
  };
  // The first row is Traefik's own test vector (pkg/server/cookie/cookie_test.go); the second was
  // computed with `printf _TRAEFIK_BACKEND_whoami@docker | sha1sum`.
  const auto c = GENERATE(Case{"/my/BACKEND-v1.0~rc1", "_5f7bc"}, Case{"whoami@docker", "_633ff"});
  CHECK(runtime::default_cookie_name(c.service) == c.expected);
}

TEST_CASE("custom cookie names are sanitized to token characters") {
  struct Case {
    std::string_view name;
    std::string_view expected;
  };
  const auto c =
      GENERATE(Case{"/my/BACKEND-v1.0~rc1", "_my_BACKEND-v1.0~rc1"}, Case{"session", "session"},
               Case{"a b;c=d", "a_b_c_d"}, Case{"!#$%&'*+-.^`|~", "!#$%&'*+-.^`|~"});
  CHECK(runtime::sanitize_cookie_name(c.name) == c.expected);
}

TEST_CASE("sticky values are the first 16 hex digits of SHA-256 of the server URL") {
  struct Case {
    std::string_view url;
    std::string_view expected;
  };
  // Expected values from `printf URL | sha256sum | cut -c1-16`.
  const auto c = GENERATE(Case{"http://10.0.0.1:80", "df5bd2f9c0180410"},
                          Case{"http://127.0.0.1:8080", "d30a576c03187167"});
  CHECK(runtime::sticky_value(c.url) == c.expected);
}

TEST_CASE("cookies are found in a Cookie header") {
  struct Case {
    std::string_view header;
    std::string_view name;
    std::optional<std::string_view> expected;
  };
  const auto c = GENERATE(Case{"a=1; b=2", "b", "2"}, Case{"a=1;b=2", "a", "1"},
                          Case{"a=1; b=2", "c", std::nullopt}, Case{"ab=1; b=2", "b", "2"},
                          Case{"  _x = \"q\" ", "_x", "q"}, Case{"flag; a=", "a", ""},
                          Case{"", "a", std::nullopt});
  CHECK(runtime::find_cookie(c.header, c.name) == c.expected);
}

TEST_CASE("Set-Cookie carries the configured attributes in Go's order") {
  runtime::StickyCookie cookie;
  cookie.name = "_633ff";
  CHECK(runtime::format_set_cookie(cookie, "v") == "_633ff=v; Path=/");
  cookie.path = "/app";
  cookie.domain = "example.com";
  cookie.max_age = 60;
  cookie.http_only = true;
  cookie.secure = true;
  cookie.same_site = "Strict";
  CHECK(runtime::format_set_cookie(cookie, "v") ==
        "_633ff=v; Path=/app; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=Strict");
  cookie.max_age = -1;
  cookie.same_site = "bogus";
  CHECK(runtime::format_set_cookie(cookie, "v") ==
        "_633ff=v; Path=/app; Domain=example.com; Max-Age=0; HttpOnly; Secure");
}
