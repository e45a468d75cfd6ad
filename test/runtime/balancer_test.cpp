#include <catch2/catch.hpp>

#include <map>

#include "berth/runtime/balancer.hpp"
#include "test_config.hpp"

using namespace berth;
using runtime::test::load_balancer;
using runtime::test::weighted;

namespace {

std::shared_ptr<const runtime::Snapshot> build(const config::Configuration& conf,
                                               runtime::HealthRegistry* health = nullptr) {
  runtime::BuildOptions o;
  o.entry_points = {"web"};
  o.default_entry_points = {"web"};
  o.health = health;
  auto result = runtime::build_snapshot(conf, o);
  REQUIRE(result.errors.empty());
  return result.snapshot;
}

std::size_t index_of(const runtime::Snapshot& snapshot, std::string_view name) {
  return snapshot.service_index.at(std::string(name));
}

std::map<std::string, int> distribution(runtime::Balancer& balancer, std::size_t service, int n) {
  std::map<std::string, int> counts;
  const rules::RequestView request{"GET", "a", "/", {}, {}, std::nullopt};
  for (int i = 0; i < n; ++i) {
    const auto pick = balancer.pick(service, request);
    counts[pick.server == nullptr ? "<none>" : pick.server->url]++;
  }
  return counts;
}

}  // namespace

TEST_CASE("smooth WRR follows the weights exactly and never picks weight 0") {
  config::Configuration conf;
  conf.http.services["svc@t"] = load_balancer(
      {{"http://10.0.0.1:80", 1}, {"http://10.0.0.2:80", 3}, {"http://10.0.0.3:80", 0}});
  auto snapshot = build(conf);
  runtime::Balancer balancer(snapshot);
  auto counts = distribution(balancer, index_of(*snapshot, "svc@t"), 400);
  CHECK(counts["http://10.0.0.1:80"] == 100);
  CHECK(counts["http://10.0.0.2:80"] == 300);
  CHECK(counts.count("http://10.0.0.3:80") == 0);
}

TEST_CASE("smooth WRR interleaves instead of bursting") {
  config::Configuration conf;
  conf.http.services["svc@t"] =
      load_balancer({{"http://a:80", 5}, {"http://b:80", 1}, {"http://c:80", 1}});
  auto snapshot = build(conf);
  runtime::Balancer balancer(snapshot);
  const rules::RequestView request{"GET", "a", "/", {}, {}, std::nullopt};
  std::string sequence;
  for (int i = 0; i < 7; ++i) {
    sequence += balancer.pick(index_of(*snapshot, "svc@t"), request).server->host;
  }
  // nginx's documented sequence for weights 5, 1, 1.
  CHECK(sequence == "aabacaa");
}

TEST_CASE("down servers are skipped, and no server up means no pick") {
  runtime::HealthRegistry health;
  config::Configuration conf;
  conf.http.services["svc@t"] =
      load_balancer({{"http://10.0.0.1:80", 1}, {"http://10.0.0.2:80", 1}});
  conf.http.services["empty@t"] = load_balancer({});
  auto snapshot = build(conf, &health);
  runtime::Balancer balancer(snapshot);
  health.set_up("http://10.0.0.1:80", false);
  auto counts = distribution(balancer, index_of(*snapshot, "svc@t"), 10);
  CHECK(counts["http://10.0.0.2:80"] == 10);
  health.set_up("http://10.0.0.2:80", false);
  CHECK(distribution(balancer, index_of(*snapshot, "svc@t"), 3)["<none>"] == 3);
  CHECK(distribution(balancer, index_of(*snapshot, "empty@t"), 3)["<none>"] == 3);
}

TEST_CASE("weighted services balance over their children recursively") {
  runtime::HealthRegistry health;
  config::Configuration conf;
  conf.http.services["v1@t"] =
      load_balancer({{"http://10.0.1.1:80", 1}, {"http://10.0.1.2:80", 1}});
  conf.http.services["v2@t"] = load_balancer({{"http://10.0.2.1:80", 1}});
  conf.http.services["canary@t"] = weighted({{"v1", 3}, {"v2", 1}});
  auto snapshot = build(conf, &health);
  runtime::Balancer balancer(snapshot);
  auto counts = distribution(balancer, index_of(*snapshot, "canary@t"), 400);
  CHECK(counts["http://10.0.1.1:80"] == 150);
  CHECK(counts["http://10.0.1.2:80"] == 150);
  CHECK(counts["http://10.0.2.1:80"] == 100);
  // A child without any server up is skipped entirely.
  health.set_up("http://10.0.2.1:80", false);
  counts = distribution(balancer, index_of(*snapshot, "canary@t"), 40);
  CHECK(counts["http://10.0.1.1:80"] + counts["http://10.0.1.2:80"] == 40);
}

TEST_CASE("sticky cookies pin a server, and a stale cookie falls back to WRR with a new cookie") {
  runtime::HealthRegistry health;
  config::Configuration conf;
  conf.http.services["app@docker"] =
      load_balancer({{"http://10.0.0.1:80", 1}, {"http://10.0.0.2:80", 1}}, true);
  auto snapshot = build(conf, &health);
  runtime::Balancer balancer(snapshot);
  const auto service = index_of(*snapshot, "app@docker");
  const std::string name = runtime::default_cookie_name("app@docker");

  // No cookie: WRR and a cookie to set.
  const rules::RequestView bare{"GET", "a", "/", {}, {}, std::nullopt};
  const auto first = balancer.pick(service, bare);
  REQUIRE(first.server != nullptr);
  REQUIRE(first.cookie_count == 1);
  CHECK(first.cookies[0].cookie->name == name);
  CHECK(first.cookies[0].value == runtime::sticky_value(first.server->url));

  // With the cookie: the same server every time, and nothing to set.
  const std::string cookie = name + "=" + std::string(first.cookies[0].value);
  const std::array<rules::HeaderField, 2> headers{rules::HeaderField{"Accept", "*/*"},
                                                  rules::HeaderField{"cookie", cookie}};
  const rules::RequestView sticky{"GET", "a", "/", {}, headers, std::nullopt};
  for (int i = 0; i < 10; ++i) {
    const auto pick = balancer.pick(service, sticky);
    CHECK(pick.server == first.server);
    CHECK(pick.cookie_count == 0);
  }

  // The pinned server goes down: another one, and a new cookie.
  health.set_up(first.server->url, false);
  const auto moved = balancer.pick(service, sticky);
  REQUIRE(moved.server != nullptr);
  CHECK(moved.server != first.server);
  REQUIRE(moved.cookie_count == 1);
  CHECK(moved.cookies[0].value == runtime::sticky_value(moved.server->url));
  health.set_up(first.server->url, true);

  // A cookie naming a server that is gone from the configuration.
  const std::string gone = name + "=" + runtime::sticky_value("http://10.9.9.9:80");
  const std::array<rules::HeaderField, 1> gone_headers{rules::HeaderField{"Cookie", gone}};
  const auto fallback =
      balancer.pick(service, rules::RequestView{"GET", "a", "/", {}, gone_headers, std::nullopt});
  REQUIRE(fallback.server != nullptr);
  CHECK(fallback.cookie_count == 1);
}

TEST_CASE("legacy sticky cookies holding the raw URL are accepted and rewritten") {
  config::Configuration conf;
  conf.http.services["app@docker"] =
      load_balancer({{"http://10.0.0.1:80", 1}, {"http://10.0.0.2:80", 1}}, true);
  auto snapshot = build(conf);
  runtime::Balancer balancer(snapshot);
  const std::string cookie = runtime::default_cookie_name("app@docker") + "=http://10.0.0.2:80";
  const std::array<rules::HeaderField, 1> headers{rules::HeaderField{"Cookie", cookie}};
  const rules::RequestView request{"GET", "a", "/", {}, headers, std::nullopt};
  for (int i = 0; i < 3; ++i) {
    const auto pick = balancer.pick(index_of(*snapshot, "app@docker"), request);
    REQUIRE(pick.server != nullptr);
    CHECK(pick.server->url == "http://10.0.0.2:80");
    REQUIRE(pick.cookie_count == 1);
    CHECK(pick.cookies[0].value == runtime::sticky_value("http://10.0.0.2:80"));
  }
}

TEST_CASE("a sticky weighted service pins its child and the child's own cookie pins the server") {
  config::Configuration conf;
  conf.http.services["v1@t"] =
      load_balancer({{"http://10.0.1.1:80", 1}, {"http://10.0.1.2:80", 1}}, true);
  conf.http.services["v2@t"] = load_balancer({{"http://10.0.2.1:80", 1}});
  conf.http.services["top@t"] = weighted({{"v1", 1}, {"v2", 1}}, true);
  auto snapshot = build(conf);
  runtime::Balancer balancer(snapshot);
  const auto top = index_of(*snapshot, "top@t");
  const std::string top_cookie =
      runtime::default_cookie_name("top@t") + "=" + runtime::sticky_value("v1@t");
  const std::string v1_cookie =
      runtime::default_cookie_name("v1@t") + "=" + runtime::sticky_value("http://10.0.1.2:80");
  const std::array<rules::HeaderField, 2> headers{rules::HeaderField{"Cookie", top_cookie},
                                                  rules::HeaderField{"Cookie", v1_cookie}};
  const rules::RequestView request{"GET", "a", "/", {}, headers, std::nullopt};
  for (int i = 0; i < 5; ++i) {
    const auto pick = balancer.pick(top, request);
    REQUIRE(pick.server != nullptr);
    CHECK(pick.server->url == "http://10.0.1.2:80");
    CHECK(pick.cookie_count == 0);
  }
  // Without cookies both levels ask for one.
  const auto fresh = balancer.pick(top, rules::RequestView{"GET", "a", "/", {}, {}, std::nullopt});
  REQUIRE(fresh.server != nullptr);
  CHECK(fresh.cookie_count == (fresh.server->url.find("10.0.1.") != std::string::npos ? 2U : 1U));
}
