#include <catch2/catch.hpp>

#include "berth/proxy/forwarding.hpp"

using namespace berth::proxy;
using http::field;

namespace {

RequestHeader header(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  RequestHeader h;
  h.method(http::verb::post);
  h.target("/");
  h.version(11);
  for (const auto& [name, value] : fields) h.insert(name, value);
  return h;
}

}  // namespace

TEST_CASE("request framing: CL with TE is rejected, only chunked is supported") {
  struct Case {
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    FramingError expected;
  };
  const auto c =
      GENERATE(Case{{}, FramingError::none}, Case{{{"Content-Length", "5"}}, FramingError::none},
               Case{{{"Transfer-Encoding", "chunked"}}, FramingError::none},
               Case{{{"Transfer-Encoding", "Chunked"}}, FramingError::none},
               Case{{{"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}},
                    FramingError::conflicting_length},
               Case{{{"Transfer-Encoding", "gzip"}}, FramingError::unsupported_encoding},
               Case{{{"Transfer-Encoding", "gzip, chunked"}}, FramingError::unsupported_encoding},
               Case{{{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
                    FramingError::unsupported_encoding},
               Case{{{"Transfer-Encoding", "identity"}}, FramingError::unsupported_encoding});
  RequestHeader h = header({});
  for (const auto& [name, value] : c.fields) h.insert(name, value);
  CHECK(check_framing(h) == c.expected);
}

TEST_CASE("request targets: origin-form and absolute-form - others are refused") {
  struct Case {
    std::string_view target;
    bool ok;
    std::string_view authority;
    std::string_view origin;
    std::string_view path;
    std::string_view query;
  };
  const auto c = GENERATE(
      Case{"/a/b?x=1", true, "", "/a/b?x=1", "/a/b", "x=1"}, Case{"/", true, "", "/", "/", ""},
      Case{"http://h.example:8080/p?q", true, "h.example:8080", "/p?q", "/p", "q"},
      Case{"HTTP://h", true, "h", "/", "/", ""}, Case{"http://h?q", true, "h", "?q", "", "q"},
      Case{"h.example:443", false, "", "", "", ""}, Case{"*", false, "", "", "", ""},
      Case{"ftp://h/", false, "", "", "", ""}, Case{"http:///p", false, "", "", "", ""});
  const auto parts = split_target(c.target);
  REQUIRE(parts.has_value() == c.ok);
  if (!parts) return;
  CHECK(parts->authority == c.authority);
  CHECK(parts->origin == c.origin);
  CHECK(parts->path == c.path);
  CHECK(parts->query == c.query);
}

TEST_CASE("hop-by-hop fields and the fields Connection names are stripped") {
  auto h = header({{"Connection", "keep-alive, X-Hop"},
                   {"Connection", "x-other"},
                   {"X-Hop", "1"},
                   {"X-Other", "1"},
                   {"Keep-Alive", "timeout=5"},
                   {"Proxy-Connection", "keep-alive"},
                   {"Proxy-Authorization", "Basic x"},
                   {"TE", "trailers"},
                   {"Trailer", "X-T"},
                   {"Transfer-Encoding", "chunked"},
                   {"Upgrade", "h2c"},
                   {"X-End", "1"}});
  strip_hop_by_hop(h, false);
  for (std::string_view name :
       {"Connection", "X-Hop", "X-Other", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade"}) {
    INFO(name);
    CHECK(h.find(name) == h.end());
  }
  CHECK(h["X-End"] == "1");
}

TEST_CASE("the WebSocket handshake keeps Upgrade and Connection") {
  auto h = header({{"Connection", "Upgrade, X-Hop"}, {"Upgrade", "websocket"}, {"X-Hop", "1"}});
  CHECK(is_websocket_upgrade(h));
  strip_hop_by_hop(h, true);
  CHECK(h["Upgrade"] == "websocket");
  CHECK(h["Connection"] == "Upgrade");
  CHECK(h.find("X-Hop") == h.end());
  CHECK_FALSE(is_websocket_upgrade(header({{"Upgrade", "websocket"}})));
  CHECK_FALSE(is_websocket_upgrade(header({{"Connection", "upgrade"}, {"Upgrade", "h2c"}})));
}

TEST_CASE("upstream requests get X-Forwarded-* like Traefik, replacing untrusted ones") {
  struct Case {
    bool trust;
    bool pass_host;
    std::string_view host;
    std::string_view xff;
    std::string_view real_ip;
    std::string_view port;
    std::string_view sent_host;
  };
  const auto c = GENERATE(
      Case{false, true, "app.example", "10.1.1.1", "10.1.1.1", "80", "app.example"},
      Case{false, false, "app.example:8443", "10.1.1.1", "10.1.1.1", "8443", "10.0.0.5:8080"},
      Case{true, true, "[::1]:81", "6.6.6.6, 7.7.7.7, 10.1.1.1", "6.6.6.6", "81", "[::1]:81"});
  auto h = header({{"Host", c.host},
                   {"X-Forwarded-For", "6.6.6.6"},
                   {"X-Forwarded-For", "7.7.7.7"},
                   {"X-Real-Ip", "6.6.6.6"},
                   {"Expect", "100-continue"}});
  h.version(10);
  const std::string host(c.host);
  ForwardContext context;
  context.client_ip = "10.1.1.1";
  context.host = host;
  context.origin = "/p?q=1";
  context.upstream_authority = "10.0.0.5:8080";
  context.server_name = "berth-1";
  context.pass_host_header = c.pass_host;
  context.trust_forwarded = c.trust;
  ForwardedFields forwarded;
  prepare_upstream_request(h, context, forwarded);
  // What goes upstream: the request's own fields, then the added ones.
  for (const auto& line : forwarded.lines()) h.insert(line.name, line.value);
  CHECK(h.version() == 11);
  CHECK(h.target() == "/p?q=1");
  CHECK(h["X-Forwarded-For"] == c.xff);
  CHECK(h["X-Real-Ip"] == c.real_ip);
  CHECK(h["X-Forwarded-Host"] == c.host);
  CHECK(h["X-Forwarded-Port"] == c.port);
  CHECK(h["X-Forwarded-Proto"] == "http");
  CHECK(h["X-Forwarded-Server"] == "berth-1");
  CHECK(h["Host"] == c.sent_host);
  CHECK(h.find(field::expect) == h.end());
  CHECK(h.count("X-Forwarded-For") == 1);
  CHECK(h.count("X-Real-Ip") == 1);
}

TEST_CASE("the upstream target is origin-form, under a preserved server path") {
  struct Case {
    std::string_view origin;  // from split_target: "?q" for "http://h?q"
    std::string_view path_prefix;
    std::string_view expected;
  };
  const auto c = GENERATE(Case{"/x?y", "", "/x?y"}, Case{"?q", "", "/?q"},
                          Case{"/x?y", "/base/", "/base/x?y"}, Case{"/x", "/base", "/base/x"},
                          Case{"?q", "/base", "/base/?q"}, Case{"?q", "/base/", "/base/?q"});
  auto h = header({{"Host", "a"}});
  ForwardContext context;
  context.client_ip = "10.1.1.1";
  context.host = "a";
  context.origin = c.origin;
  context.path_prefix = c.path_prefix;
  ForwardedFields forwarded;
  prepare_upstream_request(h, context, forwarded);
  CAPTURE(c.origin, c.path_prefix);
  CHECK(h.target() == c.expected);
}
