// berth as its users run it: a container with the Docker socket mounted read-only, in front of
// labelled app containers on a Docker network, all traffic to ports published on 127.0.0.1.

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker_cli.hpp"
#include "e2e_support.hpp"
#include "socket_forwarder.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

using berth::test::TempDir;

namespace {

using berth::e2e::api_get;
using berth::e2e::app_labels;
using berth::e2e::Berth;
using berth::e2e::docker;
using berth::e2e::eventually;
using berth::e2e::Sandbox;
using berth::e2e::servers_up;
using berth::e2e::start_berth;
using berth::test::http_get;
using berth::test::HttpClient;
using namespace std::chrono_literals;

/// The replica name berth-whoami reports.
std::string replica(const berth::test::HttpResponse& response) {
  const auto at = response.body.find("Name: ");
  if (at == std::string::npos) return {};
  return response.body.substr(at + 6, response.body.find('\n', at) - at - 6);
}

}  // namespace

TEST_CASE("replicas are discovered, balanced, sticky, and a stopped one gets no more requests") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("e2e" + sandbox.label().substr(sandbox.label().find('=') + 1));
  sandbox.start_app("one", labels);
  sandbox.start_app("two", labels);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 2; }));

  // One keep-alive connection stays on one worker, whose balancer alternates exactly.
  HttpClient client("127.0.0.1", berth.web);
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 6; ++i) {
    auto response = client.get("/");
    REQUIRE(response);
    REQUIRE(response->status == 200);
    const std::string name = replica(*response);
    CHECK(name != previous);
    previous = name;
    seen.insert(name);
  }
  CHECK(seen == std::set<std::string>{"one", "two"});

  // The cookie keeps a user on its replica, on any connection.
  auto first = http_get("127.0.0.1", berth.web, "/", 5s);
  REQUIRE(first);
  const auto cookie = first->header("Set-Cookie");
  REQUIRE(cookie);
  CHECK_THAT(*cookie, Catch::StartsWith("e2e_sticky="));
  const std::string pinned = replica(*first);
  for (int i = 0; i < 5; ++i) {
    HttpClient fresh("127.0.0.1", berth.web);
    auto response = fresh.get("/", {{"Cookie", cookie->substr(0, cookie->find(';'))}});
    REQUIRE(response);
    CHECK(replica(*response) == pinned);
  }

  // Scaling up: the new replica takes traffic without any restart.
  sandbox.start_app("three", labels);
  CHECK(eventually([&] {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    return response && replica(*response) == "three";
  }));

  // Scaling down: once berth has seen the stop, no request reaches the stopped replica.
  const std::string one =
      "berth-e2e-" + sandbox.label().substr(sandbox.label().find('=') + 1) + "-one";
  REQUIRE(docker({"stop", "-t", "5", one}));
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 2; }));
  for (int i = 0; i < 20; ++i) {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(replica(*response) != "one");
  }
}

TEST_CASE("a bad label disables only its own router, and the API says why") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  sandbox.start_app("good",
                    {"traefik.enable=true", "traefik.http.routers.good.rule=Host(`good.test`)",
                     "traefik.http.services.good.loadbalancer.server.port=80"});
  sandbox.start_app("bad", {"traefik.enable=true", "traefik.http.routers.bad.rule=Host(`bad.test`",
                            "traefik.http.services.bad.loadbalancer.server.port=80"});
  REQUIRE(eventually([&] { return servers_up(berth.api, "good@docker") == 1; }));

  HttpClient client("127.0.0.1", berth.web);
  auto good = client.get("/", {{"Host", "good.test"}});
  REQUIRE(good);
  CHECK(good->status == 200);
  CHECK(replica(*good) == "good");
  auto bad = client.get("/", {{"Host", "bad.test"}});
  REQUIRE(bad);
  CHECK(bad->status == 404);

  nlohmann::json router;
  REQUIRE(eventually([&] {
    router = api_get(berth.api, "/api/http/routers/bad@docker");
    return router.is_object();
  }));
  CHECK(router["status"] == "disabled");
  REQUIRE(router["error"].is_array());
  REQUIRE_FALSE(router["error"].empty());

  const auto containers = api_get(berth.api, "/api/providers/docker/containers");
  REQUIRE(containers.is_array());
  std::size_t ours = 0;
  for (const auto& container : containers) {
    const std::string name = container.value("name", "");
    if (name.find("-good") != std::string::npos || name.find("-bad") != std::string::npos) ++ours;
  }
  CHECK(ours == 2);
}

TEST_CASE("a request in flight finishes when its container is stopped") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const std::string app = sandbox.start_app(
      "slow", {"traefik.enable=true", "traefik.http.routers.slow.rule=PathPrefix(`/`)",
               "traefik.http.services.slow.loadbalancer.server.port=80"});
  REQUIRE(eventually([&] { return servers_up(berth.api, "slow@docker") == 1; }));

  std::optional<berth::test::Result<berth::test::HttpResponse>> slow;
  std::thread request([&] { slow = http_get("127.0.0.1", berth.web, "/?delay=1500ms", 10s); });
  std::this_thread::sleep_for(500ms);
  REQUIRE(docker({"stop", "-t", "10", app}));
  request.join();
  REQUIRE(slow);
  REQUIRE(*slow);
  CHECK((*slow)->status == 200);
  CHECK(replica(**slow) == "slow");
}

TEST_CASE("a replica whose healthcheck fails gets no traffic and the API says why") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("health");
  sandbox.start_app("steady", labels);
  const std::string flaky = sandbox.start_app("flaky", labels);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 2; }));

  // Switch flaky's health endpoint to failing, through berth, pinned to flaky by its cookie.
  std::string cookie;
  REQUIRE(eventually([&] {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    if (!response || replica(*response) != "flaky" || !response->header("Set-Cookie")) return false;
    cookie = *response->header("Set-Cookie");
    cookie = cookie.substr(0, cookie.find(';'));
    return true;
  }));
  HttpClient pinned("127.0.0.1", berth.web);
  auto switched = pinned.get("/health?set=fail", {{"Cookie", cookie}});
  REQUIRE(switched);
  CHECK(switched->status == 503);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 1; }, 30s));
  for (int i = 0; i < 20; ++i) {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    REQUIRE(response);
    CHECK(replica(*response) == "steady");
  }
  const auto containers = api_get(berth.api, "/api/providers/docker/containers");
  bool excluded_with_reason = false;
  for (const auto& container : containers) {
    if (container.value("name", "") == flaky) {
      excluded_with_reason = !container.value("routed", true) &&
                             container.value("reason", "").find("unhealthy") != std::string::npos;
    }
  }
  CHECK(excluded_with_reason);
}

TEST_CASE(
    "a stopping replica is drained before it dies, and scaling down under load fails nothing") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("drain");
  std::vector<std::string> replicas;
  for (const char* name : {"r1", "r2", "r3", "r4"})
    replicas.push_back(sandbox.start_app(name, labels));
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 4; }));

  // Constant load on several connections while three replicas stop; the first failure is kept
  // whole (status and body, or the client's error) for the report.
  std::atomic<bool> stop_load{false};
  std::atomic<int> sent{0};
  std::atomic<int> failed{0};
  std::atomic<int> server_errors{0};
  std::mutex first_failure_mutex;
  std::string first_failure;
  std::vector<std::thread> load;
  for (int worker = 0; worker < 8; ++worker) {
    load.emplace_back([&] {
      HttpClient client("127.0.0.1", berth.web);
      while (!stop_load) {
        auto response = client.get("/");
        ++sent;
        if (response && response->status == 200) continue;
        ++failed;
        if (response && response->status >= 500) ++server_errors;
        const std::lock_guard lock(first_failure_mutex);
        if (first_failure.empty()) {
          first_failure = response
                              ? "status " + std::to_string(response->status) + ": " + response->body
                              : "error: " + response.error();
        }
      }
    });
  }
  std::this_thread::sleep_for(500ms);

  // A slow request keeps r1 alive after SIGTERM: while it runs, r1 is still running but drained.
  std::optional<berth::test::Result<berth::test::HttpResponse>> slow;
  std::thread slow_request([&] {
    HttpClient client("127.0.0.1", berth.web);
    // Pin the slow request to r1 through the sticky cookie of an r1 answer.
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto response = client.get("/");
      if (!response || replica(*response) != "r1") continue;
      const auto cookie = response->header("Set-Cookie");
      if (!cookie) continue;
      slow = client.get("/?delay=2s", {{"Cookie", cookie->substr(0, cookie->find(';'))}});
      return;
    }
  });
  std::this_thread::sleep_for(300ms);
  const auto change_started = std::chrono::steady_clock::now();
  const int sent_before_change = sent;
  std::thread stopping([&] { docker({"stop", "-t", "10", replicas[0]}); });
  const bool drained_while_running = eventually(
      [&] {
        const auto state = docker({"inspect", "-f", "{{.State.Running}}", replicas[0]});
        return servers_up(berth.api, "app@docker") == 3 && state && *state == "true";
      },
      5s);
  for (std::size_t i = 1; i < 3; ++i) REQUIRE(docker({"stop", "-t", "10", replicas[i]}));
  stopping.join();
  slow_request.join();
  const std::chrono::duration<double> change_took =
      std::chrono::steady_clock::now() - change_started;
  const int sent_during_change = sent - sent_before_change;
  std::this_thread::sleep_for(500ms);
  stop_load = true;
  for (auto& thread : load) thread.join();

  CHECK(drained_while_running);
  REQUIRE(slow);
  REQUIRE(*slow);
  CHECK((*slow)->status == 200);
  INFO(sent_during_change << " requests in the " << change_took.count() << " s of the change, "
                          << sent << " in all; first failure: " << first_failure);
  CHECK(sent_during_change / change_took.count() >= 200.0);
  CHECK(failed == 0);
  CHECK(server_errors == 0);
  CHECK(servers_up(berth.api, "app@docker") == 1);
}

namespace {

/// "name=value" of a Set-Cookie header, as a client sends it back.
std::string cookie_pair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

/// When Docker started `container` (its State.StartedAt, e.g. 2026-11-26T08:40:36.451751847Z).
std::optional<std::chrono::system_clock::time_point> started_at(const std::string& container) {
  const auto text = docker({"inspect", "-f", "{{.State.StartedAt}}", container});
  if (!text) return std::nullopt;
  std::tm fields{};
  std::array<char, 10> fraction{};
  if (std::sscanf(text->c_str(), "%d-%d-%dT%d:%d:%d.%9[0-9]Z", &fields.tm_year, &fields.tm_mon,
                  &fields.tm_mday, &fields.tm_hour, &fields.tm_min, &fields.tm_sec,
                  fraction.data()) != 7) {
    return std::nullopt;
  }
  fields.tm_year -= 1900;
  fields.tm_mon -= 1;
  std::string nanoseconds(fraction.data());
  nanoseconds.resize(9, '0');
  return std::chrono::system_clock::from_time_t(::timegm(&fields)) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::nanoseconds{std::stoll(nanoseconds)});
}

/// How many times `what` occurs in `text`.
std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("scaling 2 -> 4: the API shows 4 servers within 1 s of the last start, all 4 answer") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  // Without the image's healthcheck a replica is routable as soon as it runs, so what is measured
  // is berth's reaction (event, inspection, rebuild), not Docker's first probe a second later.
  const std::vector<std::string> no_healthcheck{"--no-healthcheck"};
  const auto labels = app_labels("scale");
  sandbox.start_app("s1", labels, no_healthcheck);
  sandbox.start_app("s2", labels, no_healthcheck);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 2; }));

  sandbox.start_app("s3", labels, no_healthcheck);
  const std::string last = sandbox.start_app("s4", labels, no_healthcheck);
  const auto last_run_returned = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 4; }, 10s));
  const auto shown_at = std::chrono::system_clock::now();
  const auto shown_after_run = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - last_run_returned);
  // Also from the start time Docker recorded, which the CLI's own exit does not blur.
  const auto started = started_at(last);
  REQUIRE(started);
  const auto shown_after_start =
      std::chrono::duration_cast<std::chrono::milliseconds>(shown_at - *started);
  INFO("the API showed 4 servers " << shown_after_run.count()
                                   << " ms after the last `docker run` returned, "
                                   << shown_after_start.count() << " ms after Docker started it");
  CHECK(shown_after_run < 1s);
  CHECK(shown_after_start < 1s);

  // One keep-alive connection goes round every server of its worker's balancer.
  HttpClient client("127.0.0.1", berth.web);
  std::set<std::string> answered;
  for (int i = 0; i < 12; ++i) {
    auto response = client.get("/");
    REQUIRE(response);
    REQUIRE(response->status == 200);
    answered.insert(replica(*response));
  }
  CHECK(answered == std::set<std::string>{"s1", "s2", "s3", "s4"});
}

TEST_CASE("a sticky client stays on its replica for 100 requests and a WebSocket, others spread") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  const auto labels = app_labels("sticky");
  for (const char* name : {"st1", "st2", "st3"}) sandbox.start_app(name, labels);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 3; }));

  auto first = http_get("127.0.0.1", berth.web, "/", 5s);
  REQUIRE(first);
  REQUIRE(first->status == 200);
  const auto set_cookie = first->header("Set-Cookie");
  REQUIRE(set_cookie);
  const std::string cookie = cookie_pair(*set_cookie);
  const std::string pinned = replica(*first);

  // On one keep-alive connection, which without the cookie would go round the replicas.
  HttpClient client("127.0.0.1", berth.web);
  std::map<std::string, int> sticky_answers;
  for (int i = 0; i < 100; ++i) {
    auto response = client.get("/", {{"Cookie", cookie}});
    REQUIRE(response);
    REQUIRE(response->status == 200);
    ++sticky_answers[replica(*response)];
  }
  CHECK(sticky_answers == std::map<std::string, int>{{pinned, 100}});

  // The WebSocket greeting names the replica that took the handshake; one in three would land on
  // the pinned replica by chance, so several handshakes.
  for (int i = 0; i < 5; ++i) {
    auto ws = berth::test::WebSocketClient::connect("127.0.0.1", berth.web, "/ws", 5s,
                                                    {{"Cookie", cookie}});
    REQUIRE(ws);
    auto greeting = ws->receive();
    REQUIRE(greeting);
    CHECK(*greeting == "hello from " + pinned);
    REQUIRE(ws->send("ping"));
    auto echo = ws->receive();
    REQUIRE(echo);
    CHECK(*echo == pinned + ": ping");
    CHECK(ws->close());
  }

  // Without the cookie, fresh connections are spread over every replica.
  std::map<std::string, int> spread;
  for (int i = 0; i < 30; ++i) {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    REQUIRE(response);
    REQUIRE(response->status == 200);
    ++spread[replica(*response)];
  }
  CHECK(spread.size() == 3);
  for (const auto& [name, count] : spread) {
    INFO(name << " answered " << count << " of 30");
    CHECK(count >= 5);
  }
}

TEST_CASE("after berth restarts, a client's old sticky cookie still reaches the same replica") {
  Sandbox sandbox;
  Berth berth = start_berth(sandbox);
  const auto labels = app_labels("restart");
  for (const char* name : {"rs1", "rs2", "rs3"}) sandbox.start_app(name, labels);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 3; }));

  // One cookie per replica, so a mapping that changed on restart cannot pass by chance.
  std::map<std::string, std::string> cookie_of;
  REQUIRE(eventually([&] {
    auto response = http_get("127.0.0.1", berth.web, "/", 5s);
    if (!response || response->status != 200) return false;
    if (const auto set_cookie = response->header("Set-Cookie")) {
      cookie_of[replica(*response)] = cookie_pair(*set_cookie);
    }
    return cookie_of.size() == 3;
  }));

  REQUIRE(docker({"stop", "-t", "5", berth.container}));
  REQUIRE(docker({"rm", berth.container}));
  berth = start_berth(sandbox);
  REQUIRE(eventually([&] { return servers_up(berth.api, "app@docker") == 3; }));

  for (const auto& [name, cookie] : cookie_of) {
    for (int i = 0; i < 5; ++i) {
      HttpClient fresh("127.0.0.1", berth.web);
      auto response = fresh.get("/", {{"Cookie", cookie}});
      REQUIRE(response);
      REQUIRE(response->status == 200);
      INFO("cookie " << cookie);
      CHECK(replica(*response) == name);
    }
  }
}

TEST_CASE(
    "with Docker unreachable at start, berth retries, says why, and serves once it connects") {
  // The socket berth is pointed at lives in a directory the test controls, empty at first.
  TempDir socket_dir("berth-e2e");
  Sandbox sandbox;
  const std::string endpoint = "unix:///berth-docker/docker.sock";
  const Berth berth = start_berth(sandbox, {"--providers.docker.endpoint=" + endpoint},
                                  {"-v", socket_dir.path().string() + ":/berth-docker"});
  sandbox.start_app("late",
                    {"traefik.enable=true", "traefik.http.routers.late.rule=PathPrefix(`/`)",
                     "traefik.http.services.late.loadbalancer.server.port=80"});

  // Several attempts, each logged with the endpoint and the retry, while berth keeps serving.
  std::string logs;
  const auto read_logs = [&] {
    auto out = docker({"logs", berth.container});
    logs = out ? *out : out.error();
  };
  CHECK(eventually(
      [&] {
        read_logs();
        return occurrences(logs, "/berth-docker/docker.sock") >= 3 &&
               occurrences(logs, "retrying in") >= 3;
      },
      10s));
  INFO("berth's log:\n" << logs);
  const auto running = docker({"inspect", "-f", "{{.State.Running}}", berth.container});
  REQUIRE(running);
  CHECK(*running == "true");
  auto ping = http_get("127.0.0.1", berth.api, "/ping", 5s);
  REQUIRE(ping);
  CHECK(ping->status == 200);
  auto unrouted = http_get("127.0.0.1", berth.web, "/", 5s);
  REQUIRE(unrouted);
  CHECK(unrouted->status == 404);

  // The daemon "comes up": berth connects on its next attempt (backoff at most 5 s) and routes.
  const berth::e2e::UnixSocketForwarder daemon(socket_dir.path().string() + "/docker.sock",
                                               "/var/run/docker.sock");
  CHECK(eventually([&] { return servers_up(berth.api, "late@docker") == 1; }, 15s));
  auto served = http_get("127.0.0.1", berth.web, "/", 5s);
  REQUIRE(served);
  CHECK(served->status == 200);
  CHECK(replica(*served) == "late");
  read_logs();
  CHECK(occurrences(logs, "connected to Docker") == 1);
}

TEST_CASE(
    "bad rule, bad port and unknown middleware: each shows disabled with its error, the rest "
    "works") {
  Sandbox sandbox;
  const Berth berth = start_berth(sandbox);
  sandbox.start_app("fine",
                    {"traefik.enable=true", "traefik.http.routers.fine.rule=Host(`fine.test`)",
                     "traefik.http.services.fine.loadbalancer.server.port=80"});
  sandbox.start_app("broken",
                    {"traefik.enable=true", "traefik.http.routers.badrule.rule=Host(`badrule.test`",
                     "traefik.http.routers.badrule.service=target",
                     "traefik.http.routers.badport.rule=Host(`badport.test`)",
                     "traefik.http.routers.badport.service=badport",
                     "traefik.http.services.badport.loadbalancer.server.port=notaport",
                     "traefik.http.routers.badmiddleware.rule=Host(`badmiddleware.test`)",
                     "traefik.http.routers.badmiddleware.service=target",
                     "traefik.http.routers.badmiddleware.middlewares=nosuchmiddleware@docker",
                     "traefik.http.services.target.loadbalancer.server.port=80"});
  REQUIRE(eventually([&] { return servers_up(berth.api, "fine@docker") == 1; }));
  REQUIRE(eventually([&] { return servers_up(berth.api, "target@docker") == 1; }));

  // Each broken resource is in the API, disabled, with an error that names what is wrong.
  const auto disabled_naming = [&](const std::string& path, const std::string& needle) {
    const auto resource = api_get(berth.api, path);
    INFO(path << ": " << resource.dump());
    REQUIRE(resource.is_object());
    CHECK(resource.value("status", "") == "disabled");
    REQUIRE(resource.contains("error"));
    REQUIRE(resource["error"].is_array());
    CHECK_THAT(resource["error"].dump(), Catch::Contains(needle));
  };
  disabled_naming("/api/http/routers/badrule@docker", "Host(`badrule.test`");
  disabled_naming("/api/http/services/badport@docker", "notaport");
  disabled_naming("/api/http/routers/badport@docker", "badport@docker");
  disabled_naming("/api/http/routers/badmiddleware@docker", "nosuchmiddleware@docker");

  HttpClient client("127.0.0.1", berth.web);
  auto fine = client.get("/", {{"Host", "fine.test"}});
  REQUIRE(fine);
  CHECK(fine->status == 200);
  CHECK(replica(*fine) == "fine");
  for (const char* host : {"badrule.test", "badport.test", "badmiddleware.test"}) {
    auto response = client.get("/", {{"Host", host}});
    REQUIRE(response);
    INFO(host);
    CHECK(response->status == 404);
  }
}
