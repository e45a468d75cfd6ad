#include <catch2/catch.hpp>

#include <chrono>

#include "support.hpp"

namespace berth::labels::test {
namespace {

using namespace std::chrono_literals;

struct MiddlewareCase {
  const char* what;
  LabelMap labels;  // keys after traefik.http.middlewares.m.
  config::MiddlewareKind expected;
};

LabelMap prefixed(const LabelMap& keys) {
  LabelMap labels;
  for (const auto& [key, value] : keys) labels["traefik.http.middlewares.m." + key] = value;
  return labels;
}

}  // namespace

TEST_CASE("every middleware kind decodes from labels", "[labels][middlewares]") {
  config::Headers headers;
  headers.custom_request_headers = {{"X-Script-Name", "test"}, {"X-Empty", ""}};
  headers.custom_response_headers = {{"X-Custom-Response", "1"}};
  headers.access_control_allow_methods = {"GET", "OPTIONS", "PUT"};
  headers.access_control_max_age = 100;
  headers.sts_seconds = 31536000;
  headers.frame_deny = true;
  headers.ssl_proxy_headers = {{"X-Forwarded-Proto", "https"}};

  config::IpAllowList allow;
  allow.source_range = {"127.0.0.1/32", "192.168.1.7"};
  allow.ip_strategy = config::IpStrategy{2, {"10.0.0.1"}, 0};
  allow.reject_status_code = 404;

  config::RateLimit rate;
  rate.average = 100;
  rate.burst = 50;
  rate.period = 1min;
  rate.source_criterion = config::SourceCriterion{std::nullopt, "X-User", false};

  config::InFlightReq inflight;
  inflight.amount = 10;
  inflight.source_criterion = config::SourceCriterion{std::nullopt, "", true};

  config::ForwardAuth forward;
  forward.address = "http://auth:9000/verify";
  forward.trust_forward_header = true;
  forward.auth_response_headers = {"X-User", "X-Role"};
  forward.tls = config::ForwardAuthTls{"", "", "", true};
  forward.max_body_size = 1024;

  config::CircuitBreaker breaker;
  breaker.expression = "NetworkErrorRatio() > 0.5";
  breaker.check_period = 100ms;
  breaker.fallback_duration = 10s;
  breaker.response_code = 503;

  config::Compress compress;
  compress.excluded_content_types = {"text/event-stream"};
  compress.min_response_body_bytes = 1200;
  compress.encodings = {"gzip", "br"};

  config::Buffering buffering;
  buffering.max_request_body_bytes = 2000000;
  buffering.retry_expression = "IsNetworkError() && Attempts() < 2";

  const std::vector<MiddlewareCase> cases = {
      {"addprefix", {{"addprefix.prefix", "/foo"}}, config::AddPrefix{"/foo"}},
      {"stripprefix",
       {{"stripprefix.prefixes", "/a,/b"}, {"stripprefix.forceslash", "false"}},
       config::StripPrefix{{"/a", "/b"}, false}},
      {"stripprefixregex",
       {{"stripprefixregex.regex", "/api/[a-z]+"}},
       config::StripPrefixRegex{{"/api/[a-z]+"}}},
      {"replacepath", {{"replacepath.path", "/x"}}, config::ReplacePath{"/x"}},
      {"replacepathregex",
       {{"replacepathregex.regex", "^/foo/(.*)"}, {"replacepathregex.replacement", "/bar/$1"}},
       config::ReplacePathRegex{"^/foo/(.*)", "/bar/$1"}},
      {"redirectscheme",
       {{"redirectscheme.scheme", "https"},
        {"redirectscheme.port", "8443"},
        {"redirectscheme.permanent", "true"}},
       config::RedirectScheme{"https", "8443", true}},
      {"redirectregex",
       {{"redirectregex.regex", "^http://localhost/(.*)"},
        {"redirectregex.replacement", "http://mydomain/${1}"}},
       config::RedirectRegex{"^http://localhost/(.*)", "http://mydomain/${1}", false}},
      {"headers",
       {{"headers.customrequestheaders.X-Script-Name", "test"},
        {"headers.customrequestheaders.X-Empty", ""},
        {"headers.customresponseheaders.X-Custom-Response", "1"},
        {"headers.accesscontrolallowmethods", "GET,OPTIONS,PUT"},
        {"headers.accesscontrolmaxage", "100"},
        {"headers.stsseconds", "31536000"},
        {"headers.framedeny", "true"},
        {"headers.sslproxyheaders.X-Forwarded-Proto", "https"}},
       headers},
      {"basicauth",
       {{"basicauth.users", "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/,test2:$apr1$d9h"},
        {"basicauth.realm", "berth"},
        {"basicauth.removeheader", "true"}},
       config::BasicAuth{{"test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "test2:$apr1$d9h"},
                         "",
                         "berth",
                         true,
                         ""}},
      {"ipallowlist",
       {{"ipallowlist.sourcerange", "127.0.0.1/32, 192.168.1.7"},
        {"ipallowlist.ipstrategy.depth", "2"},
        {"ipallowlist.ipstrategy.excludedips", "10.0.0.1"},
        {"ipallowlist.rejectstatuscode", "404"}},
       allow},
      {"ratelimit",
       {{"ratelimit.average", "100"},
        {"ratelimit.burst", "50"},
        {"ratelimit.period", "1m"},
        {"ratelimit.sourcecriterion.requestheadername", "X-User"}},
       rate},
      {"inflightreq",
       {{"inflightreq.amount", "10"}, {"inflightreq.sourcecriterion.requesthost", "true"}},
       inflight},
      {"retry",
       {{"retry.attempts", "4"}, {"retry.initialinterval", "100ms"}},
       config::Retry{4, 100ms}},
      {"compress",
       {{"compress.excludedcontenttypes", "text/event-stream"},
        {"compress.minresponsebodybytes", "1200"},
        {"compress.encodings", "gzip,br"}},
       compress},
      {"compress=true alone", {{"compress", "true"}}, config::Compress{}},
      {"circuitbreaker",
       {{"circuitbreaker.expression", "NetworkErrorRatio() > 0.5"},
        {"circuitbreaker.checkperiod", "100ms"},
        {"circuitbreaker.fallbackduration", "10s"},
        {"circuitbreaker.responsecode", "503"}},
       breaker},
      {"buffering",
       {{"buffering.maxrequestbodybytes", "2000000"},
        {"buffering.retryexpression", "IsNetworkError() && Attempts() < 2"}},
       buffering},
      {"forwardauth",
       {{"forwardauth.address", "http://auth:9000/verify"},
        {"forwardauth.trustforwardheader", "true"},
        {"forwardauth.authresponseheaders", "X-User,X-Role"},
        {"forwardauth.tls.insecureskipverify", "true"},
        {"forwardauth.maxbodysize", "1024"}},
       forward},
      {"chain", {{"chain.middlewares", "a,b@file"}}, config::Chain{{"a", "b@file"}}},
      {"kind names are case-insensitive",
       {{"AddPrefix.Prefix", "/foo"}},
       config::AddPrefix{"/foo"}},
      {"ipwhitelist is read as ipallowlist",
       {{"ipwhitelist.sourcerange", "10.0.0.0/8"}},
       config::IpAllowList{{"10.0.0.0/8"}, std::nullopt, 0}},
  };

  for (const auto& c : cases) {
    SECTION(c.what) {
      Result result = build_one(container("app", prefixed(c.labels)));
      INFO(dump(result));
      auto it = result.configuration.http.middlewares.find("m");
      REQUIRE(it != result.configuration.http.middlewares.end());
      CHECK(it->second.kind.index() == c.expected.index());
      CHECK(it->second.kind == c.expected);
    }
  }
}

TEST_CASE("bad middlewares are dropped with a diagnostic naming them", "[labels][middlewares]") {
  struct Case {
    const char* what;
    LabelMap labels;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"unknown kind", {{"nosuchkind.option", "1"}}, "unknown or unsupported middleware kind"},
      {"kind berth does not support", {{"plugin.x.y", "1"}}, "berth supports addPrefix"},
      {"two kinds", {{"addprefix.prefix", "/a"}, {"replacepath.path", "/b"}}, "several kinds"},
      {"no kind", {{"", ""}}, "needs a kind"},
      {"unknown option", {{"addprefix.prefixx", "/a"}}, "unknown label key"},
      {"bad integer", {{"ratelimit.average", "lots"}}, "expected an integer"},
      {"bad duration", {{"retry.initialinterval", "fast"}}, "expected a duration"},
      {"kind=false", {{"compress", "false"}}, "expected sub-keys"},
      {"a value next to a kind", {{"", "x"}, {"compress", "true"}}, "not a value"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      LabelMap labels;
      for (const auto& [key, value] : c.labels) {
        labels[key.empty() ? "traefik.http.middlewares.m" : "traefik.http.middlewares.m." + key] =
            value;
      }
      labels["traefik.http.middlewares.ok.addprefix.prefix"] = "/ok";
      Result result = build_one(container("app", labels));
      INFO(dump(result));
      CHECK_FALSE(result.configuration.http.middlewares.contains("m"));
      CHECK(result.configuration.http.middlewares.contains("ok"));
      auto found = diagnostics_with(result, c.message);
      REQUIRE(found.size() == 1);
      CHECK(found[0].resource == config::ResourceKind::middleware);
      CHECK(found[0].name == "m");
      // The router and service of the container are unaffected.
      CHECK(result.configuration.http.routers.contains("app"));
    }
  }
}

TEST_CASE("ipwhitelist warns that it is deprecated", "[labels][middlewares]") {
  Result result = build_one(
      container("app", {{"traefik.http.middlewares.m.ipwhitelist.sourcerange", "10.0.0.0/8"}}));
  auto found = diagnostics_with(result, "deprecated");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == config::Severity::warning);
}

}  // namespace berth::labels::test
