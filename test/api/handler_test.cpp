#include "berth/api/handler.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fixture.hpp"
#include "url.hpp"

namespace berth::api {
namespace {

using nlohmann::json;

const VersionInfo version{"1.2.3", "test",
                          std::chrono::system_clock::time_point{std::chrono::seconds{1714979289} +
                                                                std::chrono::milliseconds{500}}};

// Expected objects, written out as Traefik's testdata are.
const char* const router_whoami = R"j({"entryPoints":["web"],"middlewares":["auth"],
  "service":"whoami","rule":"Host(`a.example`)","priority":17,"status":"enabled","using":["web"],
  "name":"whoami@docker","provider":"docker","priorityStr":"17"})j";
const char* const router_api = R"j({"entryPoints":["traefik"],"service":"api@internal",
  "rule":"PathPrefix(`/api`)","priority":100,"status":"enabled","using":["traefik"],
  "name":"api@internal","provider":"internal","priorityStr":"100"})j";
const char* const router_broken = R"j({"entryPoints":["web"],"service":"whoami","rule":"Host(`",
  "error":["rule: unterminated string"],"status":"disabled","name":"broken@docker",
  "provider":"docker","priorityStr":"0"})j";
const char* const router_ghost =
    R"j({"error":["router ghost defined differently by containers a and b"],
  "status":"disabled","name":"ghost@docker","provider":"docker","priorityStr":"0"})j";
const char* const service_whoami = R"j({"loadBalancer":{"servers":[{"url":"http://172.18.0.3:80"},
  {"url":"http://172.18.0.4:80","weight":2}],"passHostHeader":true,
  "sticky":{"cookie":{"name":"sid","secure":true}}},"status":"enabled",
  "usedBy":["broken@docker","whoami@docker"],
  "serverStatus":{"http://172.18.0.3:80":"UP","http://172.18.0.4:80":"DRAINING"},
  "name":"whoami@docker","provider":"docker","type":"loadbalancer"})j";
const char* const service_canary = R"j({"weighted":{"services":[{"name":"whoami","weight":3}]},
  "status":"enabled","name":"canary@docker","provider":"docker","type":"weighted"})j";
const char* const middleware_auth = R"j({"basicAuth":{"users":["admin:x"]},"status":"enabled",
  "usedBy":["whoami@docker"],"name":"auth@docker","provider":"docker","type":"basicauth"})j";
const char* const middleware_unused = R"j({"addPrefix":{"prefix":"/p"},"error":["prefix looks odd"],
  "status":"warning","name":"unused@docker","provider":"docker","type":"addprefix"})j";
const char* const entry_point_web = R"j({"address":":80",
  "transport":{"lifeCycle":{"graceTimeOut":"10s"},
               "respondingTimeouts":{"readTimeout":"1m0s","idleTimeout":"3m0s"}},
  "forwardedHeaders":{},"http":{"redirections":{"entryPoint":{"to":"websecure","scheme":"https",
  "permanent":true,"priority":9223372036854775806}}},"name":"web"})j";
const char* const entry_point_traefik = R"j({"address":":8080",
  "transport":{"lifeCycle":{"graceTimeOut":"10s"},
               "respondingTimeouts":{"readTimeout":"1m0s","idleTimeout":"3m0s"}},
  "forwardedHeaders":{"trustedIPs":["10.0.0.0/8"]},"http":{},"name":"traefik"})j";

std::string list(std::initializer_list<const char*> items) {
  json out = json::array();
  for (const char* item : items) out.push_back(json::parse(item));
  return out.dump();
}

std::string message(const std::string& text) {
  return json{{"message", text}}.dump();
}

struct Case {
  std::string target;
  unsigned status;
  std::string body;                      ///< JSON, compared structurally
  std::optional<std::string> next_page;  ///< X-Next-Page, when the response must have it
};

std::optional<std::string> header(const Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

TEST_CASE("API endpoints answer Traefik's shapes") {
  const State state = test::fixture_state();
  const auto all_routers = list({router_api, router_broken, router_ghost, router_whoami});
  const Case cases[] = {
      {"/api/http/routers", 200, all_routers, "1"},
      {"/api/http/routers?per_page=2", 200, list({router_api, router_broken}), "2"},
      {"/api/http/routers?per_page=2&page=2", 200, list({router_ghost, router_whoami}), "1"},
      {"/api/http/routers?per_page=2&page=3", 400, message("invalid request: page: 3, per_page: 2"),
       std::nullopt},
      {"/api/http/routers?per_page=abc", 400, message("invalid request: per_page: 0"),
       std::nullopt},
      {"/api/http/routers?page=-1", 400, message("invalid request: page: -1"), std::nullopt},
      {"/api/http/routers?status=DISABLED", 200, list({router_broken, router_ghost}), "1"},
      {"/api/http/routers?search=A.EXAMPLE", 200, list({router_whoami}), "1"},
      {"/api/http/routers?search=ghost", 200, list({router_ghost}), "1"},
      {"/api/http/routers?serviceName=whoami@docker", 200, list({router_broken, router_whoami}),
       "1"},
      {"/api/http/routers?serviceName=api@internal", 200, list({router_api}), "1"},
      {"/api/http/routers?middlewareName=auth", 200, list({router_whoami}), "1"},
      {"/api/http/routers?sortBy=priority&direction=desc", 200,
       list({router_api, router_whoami, router_ghost, router_broken}), "1"},
      {"/api/http/routers?sortBy=priority", 200,
       list({router_broken, router_ghost, router_whoami, router_api}), "1"},
      {"/api/http/routers?sortBy=name&direction=desc", 200,
       list({router_whoami, router_ghost, router_broken, router_api}), "1"},
      {"/api/http/routers?sortBy=entryPoints", 200,
       list({router_ghost, router_api, router_broken, router_whoami}), "1"},
      {"/api/http/routers?sortBy=nonsense", 200, all_routers, "1"},
      {"/api/http/routers/whoami%40docker", 200, router_whoami, std::nullopt},
      {"/api/http/routers/ghost@docker", 200, router_ghost, std::nullopt},
      {"/api/http/routers/nope@docker", 404, message("router not found: nope@docker"),
       std::nullopt},
      {"/api/http/routers/bad%zz", 400,
       message(R"j(unable to decode routerID "bad%zz": invalid URL escape "%zz")j"), std::nullopt},
      {"/api/http/services", 200, list({service_canary, service_whoami}), "1"},
      {"/api/http/services?sortBy=servers&direction=desc", 200,
       list({service_whoami, service_canary}), "1"},
      {"/api/http/services?sortBy=type", 200, list({service_whoami, service_canary}), "1"},
      {"/api/http/services?search=CAN", 200, list({service_canary}), "1"},
      {"/api/http/services/whoami@docker", 200, service_whoami, std::nullopt},
      {"/api/http/services/x", 404, message("service not found: x"), std::nullopt},
      {"/api/http/middlewares", 200, list({middleware_auth, middleware_unused}), "1"},
      {"/api/http/middlewares?status=warning", 200, list({middleware_unused}), "1"},
      {"/api/http/middlewares?sortBy=type", 200, list({middleware_unused, middleware_auth}), "1"},
      {"/api/http/middlewares/auth@docker", 200, middleware_auth, std::nullopt},
      {"/api/http/middlewares/x", 404, message("middleware not found: x"), std::nullopt},
      {"/api/entrypoints", 200, list({entry_point_traefik, entry_point_web}), "1"},
      {"/api/entrypoints/web", 200, entry_point_web, std::nullopt},
      {"/api/entrypoints/nope", 404, message("entry point not found: nope"), std::nullopt},
      {"/api/overview", 200, R"j({
        "http":{"routers":{"total":4,"warnings":0,"errors":2},
                "services":{"total":2,"warnings":0,"errors":0},
                "middlewares":{"total":2,"warnings":1,"errors":0}},
        "tcp":{"routers":{"total":0,"warnings":0,"errors":0},
               "services":{"total":0,"warnings":0,"errors":0},
               "middlewares":{"total":0,"warnings":0,"errors":0}},
        "udp":{"routers":{"total":0,"warnings":0,"errors":0},
               "services":{"total":0,"warnings":0,"errors":0}},
        "features":{"tracing":"","metrics":"","accessLog":false},
        "providers":["Docker"]})j",
       std::nullopt},
      {"/api/version", 200,
       R"j({"Version":"1.2.3","Codename":"test","startDate":"2024-05-06T07:08:09.5Z"})j",
       std::nullopt},
      {"/api/tcp/routers", 200, "[]", "1"},
      {"/api/tcp/services", 200, "[]", "1"},
      {"/api/tcp/middlewares", 200, "[]", "1"},
      {"/api/udp/routers", 200, "[]", "1"},
      {"/api/udp/services", 200, "[]", "1"},
      {"/api/tcp/routers/x", 404, message("router not found: x"), std::nullopt},
      {"/api/udp/services/x", 404, message("service not found: x"), std::nullopt},
      {"/api/providers/docker/containers", 200, R"j([
        {"id":"def456","name":"db","routed":false,"reason":"traefik.enable=false","routers":[],
         "services":[],"diagnostics":[{"resource":"container","name":"db","container":"db",
         "severity":"info","message":"traefik.enable is false"}]},
        {"id":"abc123","name":"whoami-1","routed":true,"reason":"","routers":["whoami"],
         "services":["whoami"],"diagnostics":[
          {"resource":"router","name":"broken@docker","container":"whoami-1","severity":"error",
           "message":"rule: unterminated string"},
          {"resource":"middleware","name":"unused@docker","container":"whoami-1",
           "severity":"warning","message":"prefix looks odd"},
          {"resource":"service","name":"whoami@docker","container":"whoami-1","severity":"info",
           "message":"a note"}]}])j",
       "1"},
      {"/api/providers/docker/containers?search=WHO&per_page=1", 200,
       json::array({json::parse(R"j({"id":"abc123","name":"whoami-1","routed":true,"reason":"",
         "routers":["whoami"],"services":["whoami"],"diagnostics":[
          {"resource":"router","name":"broken@docker","container":"whoami-1","severity":"error",
           "message":"rule: unterminated string"},
          {"resource":"middleware","name":"unused@docker","container":"whoami-1",
           "severity":"warning","message":"prefix looks odd"},
          {"resource":"service","name":"whoami@docker","container":"whoami-1","severity":"info",
           "message":"a note"}]})j")})
           .dump(),
       "1"},
      {"/api/diagnostics?per_page=1&page=2", 200,
       R"j([{"resource":"router","name":"ghost@docker","container":"a","severity":"error",
           "message":"router ghost defined differently by containers a and b"}])j",
       "3"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Response response = handle(state, Request{"GET", c.target}, version);
    CHECK(response.status == c.status);
    CHECK(json::parse(response.body) == json::parse(c.body));
    CHECK(response.body.back() == '\n');
    if (c.status == 200) CHECK(response.content_type == "application/json");
    CHECK(header(response, "X-Next-Page") == c.next_page);
  }
}

TEST_CASE("rawdata maps resources by name without their identity fields") {
  const Response response = handle(test::fixture_state(), Request{"GET", "/api/rawdata"}, version);
  REQUIRE(response.status == 200);
  const json body = json::parse(response.body);
  const auto strip = [](const char* text, std::initializer_list<const char*> keys) {
    json item = json::parse(text);
    for (const char* key : keys) item.erase(key);
    return item;
  };
  CHECK(body["routers"].size() == 4);
  CHECK(body["routers"]["whoami@docker"] ==
        strip(router_whoami, {"name", "provider", "priorityStr"}));
  CHECK(body["services"]["whoami@docker"] == strip(service_whoami, {"name", "provider", "type"}));
  CHECK(body["middlewares"]["unused@docker"] ==
        strip(middleware_unused, {"name", "provider", "type"}));
  CHECK(handle(State{}, Request{"GET", "/api/rawdata"}, version).body == "{}\n");
}

TEST_CASE("methods, unknown paths and HEAD") {
  const State state = test::fixture_state();
  struct MethodCase {
    std::string method;
    std::string target;
    unsigned status;
  };
  const MethodCase cases[] = {
      {"HEAD", "/api/http/routers", 200},
      {"POST", "/api/http/routers", 405},
      {"PUT", "/api/http/routers/whoami@docker", 405},
      {"DELETE", "/api/overview", 405},
      {"GET", "/api/nothing", 404},
      {"POST", "/api/nothing", 404},
      {"GET", "/api/http/routers/", 404},
      {"GET", "/api/http/routers/a/b", 404},
      {"GET", "/api/http/things", 404},
      {"GET", "/api/udp/middlewares", 404},
      {"GET", "/api", 404},
      {"GET", "/dashboard/", 404},
  };
  for (const MethodCase& c : cases) {
    CAPTURE(c.method, c.target);
    const Response response = handle(state, Request{c.method, c.target}, version);
    CHECK(response.status == c.status);
    if (c.status == 404 && c.target.find("/api/http/routers/") == std::string::npos) {
      CHECK(response.body == "404 page not found\n");
    }
    if (c.status == 405) CHECK(header(response, "Allow") == "GET, HEAD");
  }
  CHECK(handle(state, Request{"HEAD", "/api/http/routers"}, version).body ==
        handle(state, Request{"GET", "/api/http/routers"}, version).body);
}

TEST_CASE("a router's TLS options default and its entry points in use are sorted, as Traefik") {
  State state;
  config::Router router;
  router.rule = "Host(`x`)";
  router.tls = config::RouterTls{};
  router.tls->cert_resolver = "le";
  state.configuration.http.routers["tls@docker"] = router;
  state.router_entry_points["tls@docker"] = {"websecure", "alt", "websecure"};
  const json body =
      json::parse(handle(state, Request{"GET", "/api/http/routers/tls@docker"}, version).body);
  CHECK(body["tls"] == json::parse(R"j({"options":"default","certResolver":"le"})j"));
  CHECK(body["status"] == "enabled");
  CHECK_FALSE(body.contains("priority"));
  CHECK(body["priorityStr"] == "0");
  CHECK(body["using"] == json::array({"alt", "websecure"}));
}

TEST_CASE("times are written as Go's RFC 3339 with nanoseconds") {
  using namespace std::chrono;
  const system_clock::time_point epoch{};
  const struct {
    system_clock::time_point time;
    const char* text;
  } cases[] = {
      {epoch, "1970-01-01T00:00:00Z"},
      {epoch + seconds{1714979289}, "2024-05-06T07:08:09Z"},
      {epoch + seconds{1714979289} + microseconds{120}, "2024-05-06T07:08:09.00012Z"},
      {epoch - milliseconds{1}, "1969-12-31T23:59:59.999Z"},
  };
  for (const auto& c : cases) CHECK(format_time(c.time) == c.text);
}

TEST_CASE("query strings and paths decode as Go's net/url") {
  const Query query{"a=1&a=2&b=x+y&c=%41%zz&d=%26&e;f=1&&g"};
  CHECK(query.get("a") == "1");
  CHECK(query.get("b") == "x y");
  CHECK(query.get("c").empty());  // undecodable pairs are skipped
  CHECK(query.get("d") == "&");
  CHECK(query.get("e").empty());  // pairs with ';' are rejected
  CHECK(query.get("g").empty());
  CHECK_FALSE(query.empty());
  CHECK(Query{""}.empty());

  const auto ok = path_unescape("a%2Fb+c%40d");
  REQUIRE(std::holds_alternative<std::string>(ok));
  CHECK(std::get<std::string>(ok) == "a/b+c@d");
  const auto bad = path_unescape("x%4");
  REQUIRE(std::holds_alternative<UrlError>(bad));
  CHECK(std::get<UrlError>(bad).message == R"j(invalid URL escape "%4")j");
}

}  // namespace
}  // namespace berth::api
