#include "berth/api/events.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <nlohmann/json.hpp>

#include "fixture.hpp"

namespace berth::api {
namespace {

using Names = std::vector<std::string>;

TEST_CASE("diff names what was added, removed and changed") {
  const State before = test::fixture_state();
  struct Case {
    const char* what;
    std::function<void(State&)> change;
    Changes expected;
  };
  const Case cases[] = {
      {"nothing", [](State&) {}, Changes{}},
      {"a router added",
       [](State& s) { s.configuration.http.routers["new@docker"] = config::Router{}; },
       Changes{{{"new@docker"}, {}, {}}, {}, {}, {}, {}}},
      {"a router removed", [](State& s) { s.configuration.http.routers.erase("api@internal"); },
       Changes{{{}, {"api@internal"}, {}}, {}, {}, {}, {}}},
      {"a rule changed",
       [](State& s) { s.configuration.http.routers["whoami@docker"].rule = "Host(`b`)"; },
       Changes{{{}, {}, {"whoami@docker"}}, {}, {}, {}, {}}},
      {"an effective priority changed", [](State& s) { s.router_priority["whoami@docker"] = 9; },
       Changes{{{}, {}, {"whoami@docker"}}, {}, {}, {}, {}}},
      {"an error fixed: the router and its service's usedBy are unchanged, the status is not",
       [](State& s) { s.diagnostics.erase(s.diagnostics.begin()); },
       Changes{{{}, {}, {"broken@docker"}}, {}, {}, {}, {}}},
      {"the router only known from its error disappears",
       [](State& s) { s.diagnostics.erase(s.diagnostics.begin() + 1); },
       Changes{{{}, {"ghost@docker"}, {}}, {}, {}, {}, {}}},
      {"a server drained", [](State& s) { s.server_status["http://172.18.0.3:80"] = "DRAINING"; },
       Changes{{}, {{}, {}, {"whoami@docker"}}, {}, {}, {{"http://172.18.0.3:80", "DRAINING"}}}},
      {"a server removed from its service and from the status map",
       [](State& s) {
         std::get<config::LoadBalancer>(s.configuration.http.services["whoami@docker"].kind)
             .servers.pop_back();
         s.server_status.erase("http://172.18.0.4:80");
       },
       Changes{{}, {{}, {}, {"whoami@docker"}}, {}, {}, {{"http://172.18.0.4:80", ""}}}},
      {"a middleware removed, so a router's reference now dangles",
       [](State& s) { s.configuration.http.middlewares.erase("auth@docker"); },
       Changes{{}, {}, {{}, {"auth@docker"}, {}}, {}, {}}},
      {"a container stopped being routed",
       [](State& s) {
         s.containers[0].routed = false;
         s.containers[0].reason = "not running";
       },
       Changes{{}, {}, {}, {{}, {}, {"whoami-1"}}, {}}},
      {"a container appeared",
       [](State& s) {
         s.containers.push_back({"999", "new", false, "no port", {}, {}});
       },
       Changes{{}, {}, {}, {{"new"}, {}, {}}, {}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    State after = before;
    c.change(after);
    const Changes changes = diff(before, after);
    CHECK(changes == c.expected);
    CHECK(changes.empty() == (c.expected == Changes{}));
  }
}

TEST_CASE("a first State reports everything as added") {
  const Changes changes = diff(State{}, test::fixture_state());
  CHECK(changes.routers.added ==
        Names{"api@internal", "broken@docker", "ghost@docker", "whoami@docker"});
  CHECK(changes.services.added == Names{"canary@docker", "whoami@docker"});
  CHECK(changes.containers.added == Names{"db", "whoami-1"});
  CHECK(changes.servers.size() == 2);
}

TEST_CASE("changes serialize with every list present") {
  Changes changes;
  changes.routers.added = {"a@docker"};
  changes.servers = {{"http://x:80", "DOWN"}};
  CHECK(to_json(changes, "2024-05-06T07:08:09Z") == nlohmann::json::parse(R"({
    "time":"2024-05-06T07:08:09Z",
    "routers":{"added":["a@docker"],"removed":[],"changed":[]},
    "services":{"added":[],"removed":[],"changed":[]},
    "middlewares":{"added":[],"removed":[],"changed":[]},
    "containers":{"added":[],"removed":[],"changed":[]},
    "servers":[{"url":"http://x:80","status":"DOWN"}]})"));
}

}  // namespace
}  // namespace berth::api
