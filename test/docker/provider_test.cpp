// The provider against the fake daemon through the real client. The configuration builder is a
// small stand-in (one service per routed container), so these tests check the provider's
// bookkeeping, not label semantics.

#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "berth/docker/client.hpp"
#include "berth/docker/provider.hpp"
#include "fake_daemon.hpp"

using namespace berth::docker;
using berth::docker::test::container_id;
using berth::docker::test::FakeDaemon;
using berth::labels::ContainerInfo;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto timeout = 10s;

std::string address_of(const ContainerInfo& c) {
  const auto& source = c.network_source.empty() ? c : c.network_source.front();
  for (const auto& [name, network] : source.networks) {
    if (!network.ipv4.empty()) return network.ipv4;
  }
  return {};
}

berth::labels::Result stand_in_build(std::span<const ContainerInfo> containers,
                                     const berth::labels::ProviderOptions&) {
  berth::labels::Result result;
  for (const auto& c : containers) {
    berth::labels::ContainerDecision decision;
    decision.id = c.id;
    decision.name = c.name;
    decision.routed = c.state == "running" && (c.health.empty() || c.health == "healthy") &&
                      !c.draining && !address_of(c).empty();
    if (decision.routed) {
      berth::config::LoadBalancer balancer;
      berth::config::Server server;
      server.url = "http://" + address_of(c) + ":80";
      balancer.servers.push_back(server);
      result.configuration.http.services[c.name].kind = balancer;
      result.configuration.http.routers[c.name].rule = "Host(`" + c.name + "`)";
      result.configuration.http.routers[c.name].service = c.name;
      decision.routers = {c.name};
      decision.services = {c.name};
    } else {
      decision.reason = c.draining ? "draining" : "not running or unhealthy";
    }
    result.containers.push_back(std::move(decision));
  }
  return result;
}

using Update = std::shared_ptr<const ProviderUpdate>;

const ContainerInfo* find(const Update& update, const std::string& id) {
  for (const auto& c : update->containers) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

bool routed(const Update& update, const std::string& id) {
  for (const auto& d : update->result.containers) {
    if (d.id == id) return d.routed;
  }
  return false;
}

std::string server_of(const Update& update, const std::string& service) {
  const auto& services = update->result.configuration.http.services;
  const auto it = services.find(service);
  if (it == services.end()) return {};
  return std::get<berth::config::LoadBalancer>(it->second.kind).servers.at(0).url;
}

/// The kill event `docker stop` starts with (SIGTERM).
json stop_kill(const std::string& id) {
  return FakeDaemon::container_event("kill", id, {{"signal", "15"}});
}

/// The daemon shows container `id` exited from now on.
void mark_exited(FakeDaemon& daemon, const std::string& id) {
  daemon.modify_container(id, [](json& c) { c["State"]["Status"] = "exited"; });
}

class Harness {
 public:
  FakeDaemon daemon;

  ProviderSettings settings() {
    ProviderSettings s;
    s.detect_own_container = false;
    s.build = [this](std::span<const ContainerInfo> containers,
                     const berth::labels::ProviderOptions& options) {
      ++builds;
      return stand_in_build(containers, options);
    };
    return s;
  }

  void start() { start(settings()); }
  void start(ProviderSettings s) {
    ClientOptions options;
    options.endpoint = std::get<Endpoint>(parse_endpoint(daemon.endpoint()));
    client_.emplace(options);
    provider_.emplace(*client_, std::move(s), [this](Update update) {
      const std::lock_guard lock(mutex_);
      updates_.push_back(std::move(update));
      changed_.notify_all();
    });
    provider_->start();
  }

  /// Running containers (id, name) on 172.18.0.2, .3, ...; the provider started with `s`; true
  /// once all of them are routed and the event stream is open.
  bool start_routed(const std::vector<std::pair<std::string, std::string>>& containers,
                    ProviderSettings s) {
    for (std::size_t i = 0; i < containers.size(); ++i) {
      daemon.put_container(FakeDaemon::make_container(containers[i].first, containers[i].second, {},
                                                      fmt::format("172.18.0.{}", i + 2)));
    }
    start(std::move(s));
    return wait([&](const Update& u) {
             return std::all_of(containers.begin(), containers.end(),
                                [&](const auto& c) { return routed(u, c.first); });
           }) != nullptr &&
           daemon.wait_for_event_streams(1, timeout);
  }

  void stop() { provider_->stop(); }

  ~Harness() {
    if (provider_) provider_->stop();
  }

  /// Waits until the latest update satisfies `predicate`; returns it (null on timeout).
  template <class Predicate>
  Update wait(Predicate predicate) {
    std::unique_lock lock(mutex_);
    const bool ok = changed_.wait_for(
        lock, timeout, [&] { return !updates_.empty() && predicate(updates_.back()); });
    return ok ? updates_.back() : nullptr;
  }

  std::vector<Update> updates() {
    const std::lock_guard lock(mutex_);
    return updates_;
  }

  std::atomic<int> builds{0};

 private:
  std::optional<Client> client_;
  std::optional<Provider> provider_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Update> updates_;
};

}  // namespace

TEST_CASE("start: list + inspect gives the configuration", "[provider]") {
  Harness h;
  const auto a = container_id(1), b = container_id(2), c = container_id(3);
  h.daemon.put_container(
      FakeDaemon::make_container(a, "web-1", {{"traefik.enable", "true"}}, "172.18.0.2"));
  h.daemon.put_container(FakeDaemon::make_container(b, "web-2", {}, "172.18.0.3"));
  auto exited = FakeDaemon::make_container(c, "batch", {}, "");
  exited["State"]["Status"] = "exited";
  exited["Config"]["Labels"] = nullptr;
  h.daemon.put_container(exited);
  h.start();

  const auto update = h.wait([](const Update& u) { return u->containers.size() == 3; });
  REQUIRE(update);
  CHECK(server_of(update, "web-1") == "http://172.18.0.2:80");
  CHECK(server_of(update, "web-2") == "http://172.18.0.3:80");
  CHECK_FALSE(routed(update, c));
  CHECK(find(update, a)->labels.at("traefik.enable") == "true");
  CHECK(find(update, c)->labels.empty());
  // Sorted by name.
  CHECK(update->containers[0].name == "batch");
  CHECK(update->containers[2].name == "web-2");

  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  for (const auto& request : h.daemon.requests()) {
    CAPTURE(request.target);
    CHECK(request.method == "GET");
    if (request.target != "/_ping") CHECK(request.target.starts_with("/v1.47/"));
  }
}

TEST_CASE("by default the configuration comes from labels::build_configuration", "[provider]") {
  Harness h;
  const auto id = container_id(1);
  h.daemon.put_container(FakeDaemon::make_container(id, "web-1", {{"traefik.enable", "true"}}));
  auto settings = h.settings();
  settings.build = nullptr;
  h.start(settings);
  const auto update = h.wait([](const Update&) { return true; });
  REQUIRE(update);
  REQUIRE(update->result.containers.size() == 1);
  CHECK(update->result.containers[0].id == id);
  CHECK(h.builds.load() == 0);
}

TEST_CASE("each event kind is applied by re-inspecting the container it names", "[provider]") {
  struct Case {
    std::string name;
    std::function<void(json&)> edit;  // what the daemon's state becomes
    json event;                       // built from the container ID below
    std::function<bool(const Update&)> expect;
  };
  const auto id = container_id(7);
  const auto with_state = [](std::string state) {
    return [state](json& c) { c["State"]["Status"] = state; };
  };
  const auto with_health = [](std::string health) {
    return [health](json& c) { c["State"]["Health"] = {{"Status", health}}; };
  };
  const std::vector<Case> cases{
      {"pause", with_state("paused"), FakeDaemon::container_event("pause", id),
       [&](const Update& u) { return find(u, id)->state == "paused" && !routed(u, id); }},
      {"unhealthy", with_health("unhealthy"),
       FakeDaemon::container_event("health_status: unhealthy", id),
       [&](const Update& u) { return find(u, id)->health == "unhealthy" && !routed(u, id); }},
      {"rename", [](json& c) { c["Name"] = "/renamed"; },
       FakeDaemon::container_event("rename", id, {{"oldName", "/app"}, {"name", "renamed"}}),
       [&](const Update& u) { return find(u, id)->name == "renamed" && routed(u, id); }},
      {"network disconnect+connect",
       [](json& c) {
         c["NetworkSettings"]["Networks"] = {{"other", {{"IPAddress", "10.9.0.7"}}}};
       },
       FakeDaemon::network_event("connect", id, "other"),
       [&](const Update& u) { return server_of(u, "app") == "http://10.9.0.7:80"; }},
      {"destroy",
       {},
       FakeDaemon::container_event("destroy", id),
       [&](const Update& u) { return find(u, id) == nullptr; }},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      Harness h;
      h.daemon.put_container(FakeDaemon::make_container(id, "app"));
      h.start();
      REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
      REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
      h.daemon.clear_requests();
      if (c.edit) {
        h.daemon.modify_container(id, c.edit);
      } else {
        h.daemon.remove_container(id);
      }
      h.daemon.push_event(c.event);
      CHECK(h.wait(c.expect));
      // Only the named container was re-inspected.
      for (const auto& request : h.daemon.requests()) {
        CHECK(request.target == "/v1.47/containers/" + id + "/json");
      }
    }
  }
}

TEST_CASE("create/start of a new container and unpause/healthy bring it in", "[provider]") {
  Harness h;
  h.start();
  REQUIRE(h.wait([](const Update& u) { return u->containers.empty(); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  const auto id = container_id(11);
  auto container = FakeDaemon::make_container(id, "fresh");
  container["State"]["Status"] = "created";
  h.daemon.put_container(container);
  h.daemon.push_event(FakeDaemon::container_event("create", id));
  REQUIRE(h.wait([&](const Update& u) { return find(u, id) && !routed(u, id); }));

  h.daemon.modify_container(id, [](json& c) {
    c["State"]["Status"] = "running";
    c["State"]["Health"] = {{"Status", "starting"}};
  });
  h.daemon.push_event(FakeDaemon::container_event("start", id));
  REQUIRE(h.wait([&](const Update& u) { return find(u, id)->health == "starting"; }));
  CHECK_FALSE(routed(h.updates().back(), id));

  h.daemon.modify_container(id, [](json& c) { c["State"]["Health"]["Status"] = "healthy"; });
  h.daemon.push_event(FakeDaemon::container_event("health_status: healthy", id));
  CHECK(h.wait([&](const Update& u) { return routed(u, id); }));

  h.daemon.modify_container(id, [](json& c) { c["State"]["Status"] = "paused"; });
  h.daemon.push_event(FakeDaemon::container_event("pause", id));
  REQUIRE(h.wait([&](const Update& u) { return !routed(u, id); }));
  h.daemon.modify_container(id, [](json& c) { c["State"]["Status"] = "running"; });
  h.daemon.push_event(FakeDaemon::container_event("unpause", id));
  CHECK(h.wait([&](const Update& u) { return routed(u, id); }));
}

TEST_CASE("out-of-order and duplicate events converge on the daemon's state", "[provider]") {
  Harness h;
  const auto id = container_id(5);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  h.start();
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));

  // The container is running, but a late `pause` arrives after `unpause`: re-inspection wins.
  h.daemon.push_event(FakeDaemon::container_event("unpause", id));
  h.daemon.push_event(FakeDaemon::container_event("pause", id));
  h.daemon.push_event(FakeDaemon::container_event("pause", id));
  // A marker change on another container shows the events above have been handled.
  const auto marker = container_id(6);
  h.daemon.put_container(FakeDaemon::make_container(marker, "marker", {}, "172.18.0.9"));
  h.daemon.push_event(FakeDaemon::container_event("start", marker));
  const auto update = h.wait([&](const Update& u) { return routed(u, marker); });
  REQUIRE(update);
  CHECK(routed(update, id));
  CHECK(find(update, id)->state == "running");
}

TEST_CASE("unchanged configurations are not republished", "[provider]") {
  Harness h;
  const auto id = container_id(5);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  h.start();
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  const auto before = h.updates().size();
  const int builds_before = h.builds.load();

  for (int i = 0; i < 5; ++i) {
    h.daemon.push_event(FakeDaemon::container_event("start", id));
    h.daemon.push_event(FakeDaemon::network_event("connect", id));
  }
  const auto marker = container_id(6);
  h.daemon.put_container(FakeDaemon::make_container(marker, "marker", {}, "172.18.0.9"));
  h.daemon.push_event(FakeDaemon::container_event("start", marker));
  REQUIRE(h.wait([&](const Update& u) { return routed(u, marker); }));
  CHECK(h.builds.load() > builds_before);   // the duplicates were looked at...
  CHECK(h.updates().size() == before + 1);  // ...but only the marker's change was published
}

TEST_CASE("kill publishes draining at once before die", "[provider]") {
  Harness h;
  const auto id = container_id(3);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  auto settings = h.settings();
  settings.throttle = 60s;  // any later change would wait: draining must not
  settings.counters = std::make_shared<ProviderCounters>();
  const auto counters = settings.counters;
  h.start(settings);
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  const auto before = h.updates().size();
  // The initial list is no event: no event-to-publish time yet.
  CHECK(counters->last_event_to_publish_ns.load() == -1);

  // The container still runs when the kill event arrives.
  h.daemon.push_event(stop_kill(id));
  const auto draining = h.wait([&](const Update& u) { return find(u, id)->draining; });
  REQUIRE(draining);
  CHECK(find(draining, id)->state == "running");
  CHECK_FALSE(routed(draining, id));
  CHECK(h.updates().size() == before + 1);
  CHECK(counters->events.load() >= 1);
  const auto latency = std::chrono::nanoseconds{counters->last_event_to_publish_ns.load()};
  CHECK(latency >= 0ns);
  CHECK(latency < timeout);
}

TEST_CASE("only a kill with the stop signal or SIGKILL drains", "[provider]") {
  struct Case {
    std::string stop_signal;  ///< Config.StopSignal; "": absent (SIGTERM)
    std::string signal;       ///< the kill event's "signal"; "": absent
    bool drains;
  };
  const auto c = GENERATE(values<Case>({
      {"", "1", false},  // docker kill -s HUP: a reload
      {"", "10", false},
      {"", "15", true},
      {"", "9", true},
      {"", "", true},  // a kill that names no signal
      {"SIGQUIT", "3", true},
      {"SIGQUIT", "15", false},
      {"SIGQUIT", "9", true},
      {"SIGWINCH", "28", true},
      {"SIGWINCH", "1", false},
      {"SIGFOO", "1", true},  // a stop signal berth cannot name
  }));
  CAPTURE(c.stop_signal, c.signal);
  Harness h;
  const auto id = container_id(3);
  auto container = FakeDaemon::make_container(id, "app");
  if (!c.stop_signal.empty()) container["Config"]["StopSignal"] = c.stop_signal;
  h.daemon.put_container(container);
  h.start();
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));

  // The container still runs after the kill, as after a reload or before a stop completes.
  std::map<std::string, std::string> attributes;
  if (!c.signal.empty()) attributes["signal"] = c.signal;
  h.daemon.push_event(FakeDaemon::container_event("kill", id, attributes));
  // A marker change on another container shows the kill has been handled.
  const auto marker = container_id(6);
  h.daemon.put_container(FakeDaemon::make_container(marker, "marker", {}, "172.18.0.9"));
  h.daemon.push_event(FakeDaemon::container_event("start", marker));
  const auto update = h.wait([&](const Update& u) { return routed(u, marker); });
  REQUIRE(update);
  CHECK(find(update, id)->draining == c.drains);
  CHECK(routed(update, id) == !c.drains);
  if (!c.drains) {
    for (const auto& u : h.updates()) CHECK(routed(u, id));
  }
}

TEST_CASE("a reload signal leaves the container routed and the stop signal then drains it",
          "[provider]") {
  Harness h;
  const auto id = container_id(3);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  h.start();
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));

  h.daemon.push_event(FakeDaemon::container_event("kill", id, {{"signal", "1"}}));
  h.daemon.push_event(FakeDaemon::container_event("kill", id, {{"signal", "1"}}));
  const auto marker = container_id(6);
  h.daemon.put_container(FakeDaemon::make_container(marker, "marker", {}, "172.18.0.9"));
  h.daemon.push_event(FakeDaemon::container_event("start", marker));
  const auto reloaded = h.wait([&](const Update& u) { return routed(u, marker); });
  REQUIRE(reloaded);
  CHECK(routed(reloaded, id));
  CHECK_FALSE(find(reloaded, id)->draining);

  h.daemon.push_event(stop_kill(id));
  const auto stopping = h.wait([&](const Update& u) { return find(u, id)->draining; });
  REQUIRE(stopping);
  CHECK_FALSE(routed(stopping, id));
  // No update before the stop signal's showed it draining.
  for (const auto& u : h.updates()) {
    if (u == stopping) break;
    CHECK_FALSE(find(u, id)->draining);
  }
}

TEST_CASE("draining ends when the container runs again after a start", "[provider]") {
  Harness h;
  const auto id = container_id(3);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  h.start();
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  h.daemon.push_event(FakeDaemon::container_event("kill", id));
  REQUIRE(h.wait([&](const Update& u) { return find(u, id)->draining; }));
  // A re-inspection that still shows it running does not end draining...
  h.daemon.push_event(FakeDaemon::container_event("health_status: healthy", id));
  mark_exited(h.daemon, id);
  h.daemon.push_event(FakeDaemon::container_event("die", id));
  REQUIRE(h.wait([&](const Update& u) { return find(u, id)->state == "exited"; }));
  CHECK(find(h.updates().back(), id)->draining);
  // ...a start followed by a running inspect does (docker restart).
  h.daemon.modify_container(id, [](json& c) { c["State"]["Status"] = "running"; });
  h.daemon.push_event(FakeDaemon::container_event("start", id));
  h.daemon.push_event(FakeDaemon::container_event("restart", id));
  const auto update = h.wait([&](const Update& u) { return routed(u, id); });
  REQUIRE(update);
  CHECK_FALSE(find(update, id)->draining);
}

TEST_CASE("a kill is published at once while another stopping container is slow to inspect",
          "[provider]") {
  Harness h;
  const auto slow = container_id(21);
  const auto next = container_id(22);
  REQUIRE(h.start_routed({{slow, "slow"}, {next, "next"}}, h.settings()));

  // The daemon answers the inspect of a stopping container only once it has stopped.
  h.daemon.set_inspect_delay(slow, 1500ms);
  h.daemon.push_event(stop_kill(slow));
  REQUIRE(h.wait([&](const Update& u) { return find(u, slow)->draining; }));
  std::this_thread::sleep_for(100ms);
  const auto pushed = std::chrono::steady_clock::now();
  h.daemon.push_event(stop_kill(next));
  const auto update = h.wait([&](const Update& u) { return find(u, next)->draining; });
  const auto latency = std::chrono::steady_clock::now() - pushed;
  REQUIRE(update);
  CHECK(latency < 700ms);
  // Both still run and drain until their die.
  CHECK(find(update, slow)->state == "running");
  CHECK(find(update, next)->state == "running");
  CHECK_FALSE(routed(update, slow));
  CHECK_FALSE(routed(update, next));

  // The die needs no inspect either: it shows the container stopped, still draining.
  mark_exited(h.daemon, slow);
  const auto died = std::chrono::steady_clock::now();
  h.daemon.push_event(FakeDaemon::container_event("die", slow));
  const auto stopped = h.wait([&](const Update& u) { return find(u, slow)->state == "exited"; });
  REQUIRE(stopped);
  CHECK(std::chrono::steady_clock::now() - died < 700ms);
  CHECK(find(stopped, slow)->draining);
}

TEST_CASE("a die needs no inspect, so the next container's kill is not held up behind it",
          "[provider]") {
  Harness h;
  const auto dying = container_id(23);
  const auto next = container_id(24);
  const auto crashed = container_id(25);
  auto settings = h.settings();
  settings.throttle = 60s;  // any change but an urgent one would wait
  REQUIRE(h.start_routed({{dying, "dying"}, {next, "next"}, {crashed, "crashed"}}, settings));
  h.daemon.push_event(stop_kill(dying));
  REQUIRE(h.wait([&](const Update& u) { return find(u, dying)->draining; }));
  h.daemon.clear_requests();

  // Several containers stopping at once: the daemon answers the inspect of one that died only
  // once its cleanup has ended (hundreds of ms), and the next one's kill comes meanwhile.
  mark_exited(h.daemon, dying);
  h.daemon.set_inspect_delay(dying, 1500ms);
  const auto pushed = std::chrono::steady_clock::now();
  h.daemon.push_event(FakeDaemon::container_event("die", dying));
  h.daemon.push_event(stop_kill(next));
  const auto update = h.wait([&](const Update& u) { return find(u, next)->draining; });
  REQUIRE(update);
  CHECK(std::chrono::steady_clock::now() - pushed < 700ms);
  CHECK_FALSE(routed(update, next));
  CHECK(routed(update, crashed));
  REQUIRE(h.wait([&](const Update& u) { return find(u, dying)->state == "exited"; }));

  // A container that dies without a kill (a crash) leaves routing at once, throttle or not.
  mark_exited(h.daemon, crashed);
  h.daemon.set_inspect_delay(crashed, 1500ms);
  const auto crash = std::chrono::steady_clock::now();
  h.daemon.push_event(FakeDaemon::container_event("die", crashed));
  const auto gone = h.wait([&](const Update& u) { return !routed(u, crashed); });
  REQUIRE(gone);
  CHECK(std::chrono::steady_clock::now() - crash < 700ms);
  CHECK(find(gone, crashed)->state == "exited");
  for (const auto& request : h.daemon.requests()) {
    CHECK(request.target.find("/containers/" + dying) == std::string::npos);
    CHECK(request.target.find("/containers/" + crashed) == std::string::npos);
  }
}

TEST_CASE("a burst of events is coalesced and the first change is applied at once", "[provider]") {
  Harness h;
  const auto id = container_id(4);
  h.daemon.put_container(FakeDaemon::make_container(id, "app", {{"n", "0"}}));
  auto settings = h.settings();
  settings.throttle = 2s;
  h.start(settings);
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  // Let the throttle window of the initial build pass, so the next change is a "first" one.
  std::this_thread::sleep_for(2500ms);
  const auto before = h.updates().size();

  const auto first_pushed = std::chrono::steady_clock::now();
  h.daemon.modify_container(id, [](json& c) { c["Config"]["Labels"]["n"] = "1"; });
  h.daemon.push_event(FakeDaemon::container_event("update", id));
  REQUIRE(h.wait([&](const Update& u) { return find(u, id)->labels.at("n") != "0"; }));
  // Well before the 2 s window ends (generous: a loaded machine).
  CHECK(std::chrono::steady_clock::now() - first_pushed < 1500ms);

  for (int i = 2; i <= 50; ++i) {
    h.daemon.modify_container(id, [i](json& c) { c["Config"]["Labels"]["n"] = std::to_string(i); });
    h.daemon.push_event(FakeDaemon::container_event("update", id));
  }
  REQUIRE(h.wait([&](const Update& u) { return find(u, id)->labels.at("n") == "50"; }));
  const auto published = h.updates().size() - before;
  CAPTURE(published);
  CHECK(published <= 4);
}

TEST_CASE("stream loss reconnects and resyncs while keeping the last configuration", "[provider]") {
  Harness h;
  const auto a = container_id(1), b = container_id(2);
  h.daemon.put_container(FakeDaemon::make_container(a, "a", {}, "172.18.0.2"));
  h.daemon.put_container(FakeDaemon::make_container(b, "b", {}, "172.18.0.3"));
  h.start();
  REQUIRE(h.wait([&](const Update& u) { return routed(u, a) && routed(u, b); }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));

  SECTION("the stream ends") {
    // A change that no event reports: only a resync can find it.
    mark_exited(h.daemon, b);
    h.daemon.drop_event_streams();
    CHECK(h.wait([&](const Update& u) { return routed(u, a) && !routed(u, b); }));
    CHECK(h.daemon.wait_for_event_streams(1, timeout));
  }
  SECTION("the daemon restarts") {
    h.daemon.set_listening(false);
    // Down for a while: several reconnect attempts fail; nothing is published meanwhile.
    std::this_thread::sleep_for(700ms);
    const auto while_down = h.updates().size();
    h.daemon.restart();
    h.daemon.remove_container(b);
    h.daemon.set_listening(true);
    const auto update = h.wait([&](const Update& u) { return find(u, b) == nullptr; });
    REQUIRE(update);
    CHECK(routed(update, a));
    CHECK(h.updates().size() == while_down + 1);
    CHECK(h.daemon.wait_for_event_streams(1, timeout));
  }
  // The last configuration stayed: no update ever lost container a.
  for (const auto& u : h.updates()) CHECK(routed(u, a));
}

TEST_CASE("events between list and subscribe are replayed through since", "[provider]") {
  Harness h;
  const auto id = container_id(8);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  std::atomic<bool> once{false};
  h.daemon.on_list([&] {
    if (once.exchange(true)) return;
    // After the list was answered, before the provider subscribes.
    mark_exited(h.daemon, id);
    h.daemon.push_event(FakeDaemon::container_event("die", id));
  });
  h.start();
  CHECK(h.wait([&](const Update& u) { return find(u, id) && find(u, id)->state == "exited"; }));
}

TEST_CASE("a container gone before its inspect (404) is dropped quietly", "[provider]") {
  Harness h;
  const auto a = container_id(1), b = container_id(2);
  h.daemon.put_container(FakeDaemon::make_container(a, "a"));
  h.daemon.put_container(FakeDaemon::make_container(b, "b", {}, "172.18.0.3"));
  h.start();
  REQUIRE(h.wait([&](const Update& u) { return u->containers.size() == 2; }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  h.daemon.remove_container(a);
  h.daemon.push_event(FakeDaemon::container_event("destroy", a));
  // An event about a container never seen and already gone.
  h.daemon.push_event(FakeDaemon::container_event("create", container_id(42)));
  const auto update = h.wait([&](const Update& u) { return u->containers.size() == 1; });
  REQUIRE(update);
  CHECK(routed(update, b));
}

TEST_CASE("periodic resync repairs what no event reported", "[provider]") {
  Harness h;
  const auto id = container_id(9);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  auto settings = h.settings();
  settings.resync_interval = 300ms;
  h.start(settings);
  REQUIRE(h.wait([&](const Update& u) { return routed(u, id); }));
  mark_exited(h.daemon, id);
  CHECK(h.wait([&](const Update& u) { return !routed(u, id); }));
}

TEST_CASE("network_mode container:<x> brings x's networks as network_source", "[provider]") {
  Harness h;
  const auto vpn = container_id(20), app = container_id(21);
  h.daemon.put_container(FakeDaemon::make_container(vpn, "vpn", {}, "172.18.0.20"));
  auto shared = FakeDaemon::make_container(app, "app", {}, "");
  shared["HostConfig"]["NetworkMode"] = "container:" + vpn;
  shared["NetworkSettings"]["Networks"] = json::object();
  h.daemon.put_container(shared);
  h.start();
  const auto update = h.wait([&](const Update& u) { return u->containers.size() == 2; });
  REQUIRE(update);
  REQUIRE(find(update, app)->network_source.size() == 1);
  CHECK(find(update, app)->network_source[0].id == vpn);
  CHECK(server_of(update, "app") == "http://172.18.0.20:80");

  // x gets a new address: the container sharing its stack follows.
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  h.daemon.modify_container(
      vpn, [](json& c) { c["NetworkSettings"]["Networks"]["web"]["IPAddress"] = "172.18.0.99"; });
  h.daemon.push_event(FakeDaemon::container_event("restart", vpn));
  CHECK(h.wait([&](const Update& u) { return server_of(u, "app") == "http://172.18.0.99:80"; }));
}

TEST_CASE("a version mismatch publishes nothing and is retried", "[provider]") {
  Harness h;
  const auto id = container_id(1);
  h.daemon.put_container(FakeDaemon::make_container(id, "app"));
  h.daemon.set_api_versions("1.48", "1.52");
  h.start();
  std::this_thread::sleep_for(500ms);
  CHECK(h.updates().empty());
  h.daemon.set_api_versions("1.24", "1.52");
  CHECK(h.wait([&](const Update& u) { return routed(u, id); }));
}

TEST_CASE("stop() returns promptly with an idle stream", "[provider]") {
  Harness h;
  h.start();
  REQUIRE(h.wait([](const Update&) { return true; }));
  REQUIRE(h.daemon.wait_for_event_streams(1, timeout));
  const auto begin = std::chrono::steady_clock::now();
  h.stop();
  CHECK(std::chrono::steady_clock::now() - begin < 3s);
}
