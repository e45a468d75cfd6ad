#include <catch2/catch.hpp>

#include "berth/config/json.hpp"

using namespace berth::config;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Fills every field of a value with something non-empty, so that a round trip exercises every
// field of every struct through the same visit_fields lists the JSON code uses.
struct Filler {
  template <class M>
  void field(std::string_view name, M& member) {
    fill(member, name);
  }

  template <class T>
  static void fill(T& value, std::string_view name) {
    if constexpr (std::is_same_v<T, std::string>) {
      value = "v-" + std::string{name};
    } else if constexpr (std::is_same_v<T, bool>) {
      value = true;
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      value = 7;
    } else if constexpr (std::is_same_v<T, Duration>) {
      value = 1500ms;
    } else if constexpr (json_detail::IsOptional<T>::value) {
      value.emplace();
      fill(*value, name);
    } else if constexpr (json_detail::IsVector<T>::value) {
      value.resize(2);
      for (auto& item : value) fill(item, name);
    } else if constexpr (json_detail::IsStringMap<T>::value) {
      fill(value["key"], name);
    } else if constexpr (std::is_same_v<T, Service>) {
      LoadBalancer lb;
      fill(lb, name);
      value.kind = lb;
    } else if constexpr (std::is_same_v<T, Middleware>) {
      Headers headers;
      fill(headers, name);
      value.kind = headers;
    } else {
      Filler filler;
      visit_fields(filler, value);
    }
  }
};

template <class T>
T filled() {
  T value{};
  Filler::fill(value, "root");
  return value;
}

template <class T>
void check_round_trip(const T& value) {
  const json encoded = to_json(value);
  CAPTURE(encoded.dump());
  T decoded{};
  const auto error = from_json(encoded, decoded);
  CHECK_FALSE(error.has_value());
  CHECK(decoded == value);
  // Also through text.
  T reparsed{};
  CHECK_FALSE(from_json(json::parse(encoded.dump()), reparsed).has_value());
  CHECK(reparsed == value);
}

template <class T>
void check_every_field_written(const T& value) {
  json_detail::NameCollector names;
  visit_fields(names, value);
  const json encoded = to_json(value);
  for (const auto name : names.names) {
    CAPTURE(name);
    CHECK(encoded.contains(std::string{name}));
  }
}

template <class T>
std::string first_error(const json& input) {
  T out{};
  const auto error = from_json(input, out);
  return error ? error->to_string() : std::string{"(no error)"};
}

}  // namespace

TEMPLATE_TEST_CASE("every struct round-trips with every field set", "", Domain, RouterTls,
                   RouterObservability, Router, Server, Cookie, Sticky, ServerHealthCheck,
                   PassiveHealthCheck, ResponseForwarding, LoadBalancer, WeightedServiceRef,
                   HealthCheckPropagation, Weighted, IpStrategy, SourceCriterion, ForwardAuthTls,
                   HttpConfiguration, Configuration) {
  const auto value = filled<TestType>();
  check_round_trip(value);
  check_every_field_written(value);
  check_round_trip(TestType{});
}

TEMPLATE_TEST_CASE("every middleware kind round-trips under its kind name", "", AddPrefix,
                   StripPrefix, StripPrefixRegex, ReplacePath, ReplacePathRegex, RedirectScheme,
                   RedirectRegex, Headers, BasicAuth, IpAllowList, RateLimit, InFlightReq, Retry,
                   Compress, CircuitBreaker, Buffering, ForwardAuth, Chain) {
  const Middleware middleware{filled<TestType>()};
  const json encoded = to_json(middleware);
  REQUIRE(encoded.size() == 1);
  CHECK(encoded.begin().key() == TestType::kind_name);
  check_every_field_written(std::get<TestType>(middleware.kind));
  check_round_trip(middleware);
  check_round_trip(Middleware{TestType{}});
}

TEST_CASE("both service kinds round-trip") {
  check_round_trip(Service{filled<LoadBalancer>()});
  check_round_trip(Service{filled<Weighted>()});
  CHECK(to_json(Service{Weighted{}}) == json::parse(R"~({"weighted":{}})~"));
  CHECK(to_json(Service{LoadBalancer{}}) == json::parse(R"~({"loadBalancer":{}})~"));
}

TEST_CASE("omitempty: empty values are left out, present optionals are written") {
  LoadBalancer lb;
  lb.pass_host_header = false;
  lb.servers.push_back(Server{"http://a", std::nullopt, false});
  lb.servers.push_back(Server{"http://b", 0, false});
  CHECK(to_json(lb) == json::parse(R"~({"servers":[{"url":"http://a"},{"url":"http://b",
        "weight":0}],"passHostHeader":false})~"));
  CHECK(to_json(Router{}) == json::object());
  Weighted weighted;
  weighted.health_check = HealthCheckPropagation{};
  CHECK(to_json(weighted) == json::parse(R"~({"healthCheck":{}})~"));
  Sticky sticky;
  sticky.cookie = Cookie{};
  CHECK(to_json(sticky) == json::parse(R"~({"cookie":{}})~"));
}

// The router and service examples of traefik-semantics.md §5 (Traefik's API testdata), minus the
// API-only fields (status, using, name, ...).
TEST_CASE("matches Traefik's JSON for a router") {
  Router router;
  router.entry_points = {"web"};
  router.middlewares = {"auth"};
  router.service = "whoami-shop";
  router.rule = "Host(`a.example`)";
  router.priority = 17;
  router.tls = RouterTls{"default", "le", {}};
  router.observability = RouterObservability{true, true, true, "minimal"};
  const json expected = json::parse(R"~({"entryPoints":["web"],"middlewares":["auth"],
      "service":"whoami-shop","rule":"Host(`a.example`)","priority":17,
      "tls":{"options":"default","certResolver":"le"},
      "observability":{"accessLogs":true,"metrics":true,"tracing":true,"traceVerbosity":"minimal"}})~");
  CHECK(to_json(router) == expected);
  Router back;
  CHECK_FALSE(from_json(expected, back).has_value());
  CHECK(back == router);
}

TEST_CASE("matches Traefik's JSON for a service") {
  const json expected = json::parse(R"~({"loadBalancer":{
      "servers":[{"url":"http://172.18.0.3:80"},{"url":"http://172.18.0.4:80","weight":2}],
      "strategy":"wrr","passHostHeader":true,"responseForwarding":{"flushInterval":"100ms"},
      "sticky":{"cookie":{"name":"sid","secure":true,"httpOnly":true,"sameSite":"lax",
                          "maxAge":3600,"path":"/"}},
      "healthCheck":{"path":"/health","interval":"30s","timeout":"5s","mode":"http",
                     "followRedirects":true}}})~");
  LoadBalancer lb;
  lb.servers = {{"http://172.18.0.3:80", std::nullopt, false}, {"http://172.18.0.4:80", 2, false}};
  lb.strategy = "wrr";
  lb.pass_host_header = true;
  lb.response_forwarding = ResponseForwarding{100ms};
  lb.sticky = Sticky{Cookie{"sid", true, true, "lax", 3600, "/", ""}};
  ServerHealthCheck health;
  health.path = "/health";
  health.interval = 30s;
  health.timeout = 5s;
  health.mode = "http";
  health.follow_redirects = true;
  lb.health_check = health;
  const Service service{lb};
  CHECK(to_json(service) == expected);
  Service back;
  CHECK_FALSE(from_json(expected, back).has_value());
  CHECK(back == service);
}

TEST_CASE("HttpConfiguration and Configuration have Traefik's shapes") {
  Configuration configuration;
  configuration.http.routers["r@docker"].service = "s";
  configuration.http.services["s@docker"] = Service{LoadBalancer{}};
  configuration.http.middlewares["m@docker"] = Middleware{AddPrefix{"/p"}};
  const json http = json::parse(R"~({"routers":{"r@docker":{"service":"s"}},
      "services":{"s@docker":{"loadBalancer":{}}},
      "middlewares":{"m@docker":{"addPrefix":{"prefix":"/p"}}}})~");
  CHECK(to_json(configuration.http) == http);
  CHECK(to_json(configuration) == json{{"http", http}});
  CHECK(to_json(Configuration{}) == json::parse(R"~({"http":{}})~"));
  const nlohmann::json implicit = configuration.http;
  CHECK(implicit == http);
}

TEST_CASE("durations decode from strings and from integer seconds") {
  ServerHealthCheck health;
  REQUIRE_FALSE(
      from_json(json::parse(R"~({"interval":10,"timeout":"1m30s","unhealthyInterval":"5"})~"),
                health)
          .has_value());
  CHECK(health.interval == 10s);
  CHECK(health.timeout == 90s);
  CHECK(health.unhealthy_interval == 5s);
}

TEST_CASE("field names match case-insensitively, as in Go") {
  Router router;
  REQUIRE_FALSE(from_json(json::parse(R"~({"EntryPoints":["web"],"RULE":"Host(`x`)"})~"), router)
                    .has_value());
  CHECK(router.entry_points == StringList{"web"});
  CHECK(router.rule == "Host(`x`)");
  Middleware middleware;
  REQUIRE_FALSE(
      from_json(json::parse(R"~({"STRIPPREFIX":{"prefixes":["/a"]}})~"), middleware).has_value());
  CHECK(std::get<StripPrefix>(middleware.kind).prefixes == StringList{"/a"});
}

TEST_CASE("null fields are treated as absent") {
  Router router;
  REQUIRE_FALSE(from_json(json::parse(R"~({"rule":null,"tls":null})~"), router).has_value());
  CHECK(router == Router{});
}

namespace {

struct ErrorRow {
  const char* input;
  const char* error;
};

}  // namespace

TEST_CASE("decoding errors name the JSON path and the problem") {
  const auto row = GENERATE(values<ErrorRow>({
      {R"~({"http":{"services":{"app":{"loadBalancer":{"servers":[{"url":"x","weight":"2"}]}}}}})~",
       "http.services.app.loadBalancer.servers[0].weight: expected a number, got a string"},
      {R"~({"http":{"services":{"app":{"loadBalancer":{"servers":[{"url":"x","weight":1.5}]}}}}})~",
       "http.services.app.loadBalancer.servers[0].weight: expected an integer, got 1.5"},
      {R"~({"http":{"routers":{"r":{"rule":7}}}})~",
       "http.routers.r.rule: expected a string, got a number"},
      {R"~({"http":{"routers":{"r":{"bogus":1}}}})~", "http.routers.r.bogus: unknown field"},
      {R"~({"http":{"routers":{"r":{"entryPoints":"web"}}}})~",
       "http.routers.r.entryPoints: expected an array, got a string"},
      {R"~({"http":{"routers":{"r":{"tls":{"domains":[{"main":"a","sans":[1]}]}}}}})~",
       "http.routers.r.tls.domains[0].sans[0]: expected a string, got a number"},
      {R"~({"http":{"routers":{"r":{"observability":{"metrics":"yes"}}}}})~",
       "http.routers.r.observability.metrics: expected a boolean, got a string"},
      {R"~({"http":{"routers":[]}})~", "http.routers: expected an object, got an array"},
      {R"~({"http":{"services":{"s":{}}}})~",
       "http.services.s: expected exactly one service type (loadBalancer, weighted), got 0"},
      {R"~({"http":{"services":{"s":{"loadBalancer":{},"weighted":{}}}}})~",
       "http.services.s: expected exactly one service type (loadBalancer, weighted), got 2"},
      {R"~({"http":{"services":{"s":{"mirroring":{}}}}})~",
       "http.services.s: unsupported service type \"mirroring\" (expected loadBalancer or "
       "weighted)"},
      {R"~({"http":{"services":{"s":{"loadBalancer":{"healthCheck":{"interval":"soon"}}}}}})~",
       "http.services.s.loadBalancer.healthCheck.interval: invalid duration \"soon\""},
      {R"~({"http":{"services":{"s":{"loadBalancer":{"healthCheck":{"interval":true}}}}}})~",
       "http.services.s.loadBalancer.healthCheck.interval: expected a duration (\"10s\" or a "
       "number of seconds), got a boolean"},
      {R"~({"http":{"services":{"s":{"loadBalancer":{"healthCheck":{"headers":{"a":1}}}}}}})~",
       "http.services.s.loadBalancer.healthCheck.headers.a: expected a string, got a number"},
      {R"~({"http":{"services":{"s":{"weighted":{"services":[{"name":"a","weight":-1},
           {"name":"b","weight":18446744073709551615}]}}}}})~",
       "http.services.s.weighted.services[1].weight: number out of range"},
      {R"~({"http":{"middlewares":{"m":{"fancy":{}}}}})~",
       "http.middlewares.m: unknown middleware type \"fancy\" (expected one of addPrefix, "
       "stripPrefix, stripPrefixRegex, replacePath, replacePathRegex, redirectScheme, "
       "redirectRegex, headers, basicAuth, ipAllowList, rateLimit, inFlightReq, retry, compress, "
       "circuitBreaker, buffering, forwardAuth, chain)"},
      {R"~({"http":{"middlewares":{"m":{"addPrefix":{"prefix":"/a","x":1}}}}})~",
       "http.middlewares.m.addPrefix.x: unknown field"},
      {R"~({"http":{"middlewares":{"m":"addPrefix"}}})~",
       "http.middlewares.m: expected an object, got a string"},
      {R"~({"tcp":{}})~", "tcp: unknown field"},
      {R"~([])~", "expected an object, got an array"},
  }));
  CAPTURE(row.input);
  CHECK(first_error<Configuration>(json::parse(row.input)) == row.error);
}

TEST_CASE("from_json prefixes errors with the given path") {
  Router router;
  const auto error = from_json(json::parse(R"~({"priority":"high"})~"), router, "http.routers.web");
  REQUIRE(error.has_value());
  CHECK(error->path == "http.routers.web.priority");
  CHECK(error->message == "expected a number, got a string");
}

TEST_CASE("parse_configuration reads a document and reports bad JSON") {
  const auto good = parse_configuration(R"~({"http":{"routers":{"r":{"rule":"Path(`/`)"}}}})~");
  REQUIRE(std::holds_alternative<Configuration>(good));
  CHECK(std::get<Configuration>(good).http.routers.at("r").rule == "Path(`/`)");
  const auto bad = parse_configuration(R"~({"http":)~");
  REQUIRE(std::holds_alternative<JsonError>(bad));
  CHECK(std::get<JsonError>(bad).to_string() == "invalid JSON");
  const auto wrong = parse_configuration(R"~({"http":{"routers":{"r":{"priority":true}}}})~");
  REQUIRE(std::holds_alternative<JsonError>(wrong));
  CHECK(std::get<JsonError>(wrong).to_string() ==
        "http.routers.r.priority: expected a number, got a boolean");
}
