#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::labels::test {
namespace {

ContainerInfo on_networks(std::map<std::string, ContainerNetwork> networks, LabelMap labels = {}) {
  ContainerInfo c = container("app", std::move(labels), "", 80);
  c.networks = std::move(networks);
  return c;
}

}  // namespace

TEST_CASE("port choice", "[labels][address]") {
  struct Case {
    const char* what;
    std::vector<ContainerPort> ports;
    LabelMap labels;
    std::string url;
  };
  const std::vector<Case> cases = {
      {"the lowest exposed TCP port",
       {{8080, "tcp", "", ""}, {443, "tcp", "", ""}, {3000, "tcp", "", ""}},
       {},
       "http://172.18.0.2:443"},
      {"UDP ports are not candidates",
       {{53, "udp", "", ""}, {8080, "tcp", "", ""}},
       {},
       "http://172.18.0.2:8080"},
      {"server.port wins, even when not exposed",
       {{80, "tcp", "", ""}},
       {{"traefik.http.services.app.loadbalancer.server.port", "9000"}},
       "http://172.18.0.2:9000"},
      {"server.url needs no port",
       {},
       {{"traefik.http.services.app.loadbalancer.server.url", "https://ext.example:8443/base"}},
       "https://ext.example:8443/base"},
      {"scheme",
       {{80, "tcp", "", ""}},
       {{"traefik.http.services.app.loadbalancer.server.scheme", "h2c"}},
       "h2c://172.18.0.2:80"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ContainerInfo info = container("app", c.labels);
      info.ports = c.ports;
      Result result = build_one(info);
      INFO(dump(result));
      CHECK(server_urls(result, "app") == std::vector<std::string>{c.url});
    }
  }
}

TEST_CASE("no port excludes the container", "[labels][address]") {
  Result result = build_one(container("app", {}, "172.18.0.2", 0));
  CHECK(result.configuration.http.routers.empty());
  CHECK(result.configuration.http.services.empty());
  const auto* d = decision(result, "app");
  REQUIRE(d != nullptr);
  CHECK_FALSE(d->routed);
  CHECK(d->reason.find("port is missing") != std::string::npos);
  auto found = diagnostics_with(result, "port is missing");
  REQUIRE(found.size() == 1);
  CHECK(found[0].resource == config::ResourceKind::container);
}

TEST_CASE("network choice", "[labels][address]") {
  const std::map<std::string, ContainerNetwork> three = {
      {"zeta", {"10.0.3.2", ""}}, {"alpha", {"10.0.1.2", ""}}, {"shop_back", {"10.0.2.2", ""}}};
  struct Case {
    const char* what;
    std::map<std::string, ContainerNetwork> networks;
    LabelMap labels;
    std::string option_network;
    std::vector<std::string> own;
    std::string url;
    const char* warning;  // expected warning text, or nullptr for none
  };
  const std::vector<Case> cases = {
      {"the label's network",
       three,
       {{"traefik.docker.network", "zeta"}},
       "alpha",
       {},
       "http://10.0.3.2:80",
       nullptr},
      {"the provider's network", three, {}, "zeta", {}, "http://10.0.3.2:80", nullptr},
      {"compose-prefixed name",
       three,
       {{"traefik.docker.network", "back"}, {"com.docker.compose.project", "shop"}},
       "",
       {},
       "http://10.0.2.2:80",
       nullptr},
      {"the label's network missing: falls back to the provider's",
       three,
       {{"traefik.docker.network", "nope"}},
       "zeta",
       {},
       "http://10.0.3.2:80",
       "network \"nope\" (label traefik.docker.network)"},
      {"a network shared with berth (first by name)",
       three,
       {},
       "",
       {"zeta", "shop_back", "x"},
       "http://10.0.2.2:80",
       nullptr},
      {"the only network", {{"solo", {"10.9.0.2", ""}}}, {}, "", {}, "http://10.9.0.2:80", nullptr},
      {"several networks: the first by name, with a warning",
       three,
       {},
       "",
       {"other"},
       "http://10.0.1.2:80",
       "using alpha"},
      {"the configured network is missing: warning and fallback",
       three,
       {},
       "missing",
       {},
       "http://10.0.1.2:80",
       "network \"missing\" (providers.docker.network)"},
      {"a network without an address is skipped",
       {{"a", {"", ""}}, {"b", {"10.0.0.9", ""}}},
       {},
       "",
       {},
       "http://10.0.0.9:80",
       nullptr},
      {"global IPv6 when there is no IPv4",
       {{"v6", {"", "2001:db8::5"}}},
       {},
       "",
       {},
       "http://[2001:db8::5]:80",
       nullptr},
      {"IPv4 is preferred",
       {{"dual", {"10.1.1.1", "2001:db8::5"}}},
       {},
       "",
       {},
       "http://10.1.1.1:80",
       nullptr},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ProviderOptions options;
      options.network = c.option_network;
      options.own_networks = c.own;
      Result result = build_one(on_networks(c.networks, c.labels), options);
      INFO(dump(result));
      CHECK(server_urls(result, "app") == std::vector<std::string>{c.url});
      if (c.warning) {
        auto found = diagnostics_with(result, c.warning);
        REQUIRE(found.size() == 1);
        CHECK(found[0].severity == config::Severity::warning);
      } else {
        CHECK(result.diagnostics.empty());
      }
    }
  }
}

TEST_CASE("network modes", "[labels][address]") {
  SECTION("host: loopback") {
    ContainerInfo c = on_networks({});
    c.network_mode = "host";
    Result result = build_one(c);
    CHECK(server_urls(result, "app") == std::vector<std::string>{"http://127.0.0.1:80"});
  }
  SECTION("container:<x>: the source's networks") {
    ContainerInfo c = on_networks({});
    c.network_mode = "container:vpn";
    c.network_source.push_back(container("vpn", {}, "10.5.0.7", 0));
    Result result = build_one(c);
    INFO(dump(result));
    CHECK(server_urls(result, "app") == std::vector<std::string>{"http://10.5.0.7:80"});
  }
  SECTION("container:<x> whose source uses the host network") {
    ContainerInfo source = container("vpn", {}, "", 0);
    source.network_mode = "host";
    ContainerInfo c = on_networks({});
    c.network_mode = "container:vpn";
    c.network_source.push_back(source);
    Result result = build_one(c);
    CHECK(server_urls(result, "app") == std::vector<std::string>{"http://127.0.0.1:80"});
  }
  SECTION("container:<x> that could not be inspected: excluded") {
    ContainerInfo c = on_networks({});
    c.network_mode = "container:gone";
    Result result = build_one(c);
    CHECK(result.configuration.http.services.empty());
    const auto* d = decision(result, "app");
    REQUIRE(d != nullptr);
    CHECK_FALSE(d->routed);
    CHECK(d->reason.find("could not be inspected") != std::string::npos);
  }
  SECTION("none: excluded") {
    ContainerInfo c = on_networks({});
    c.network_mode = "none";
    Result result = build_one(c);
    CHECK(result.configuration.http.services.empty());
    CHECK(decision(result, "app")->reason.find("no network") != std::string::npos);
  }
  SECTION("no IP on any network: excluded with a reason") {
    Result result = build_one(on_networks({{"a", {"", ""}}}));
    CHECK(result.configuration.http.services.empty());
    CHECK(decision(result, "app")->reason.find("no IP address") != std::string::npos);
  }
  SECTION("no network at all: excluded with a reason") {
    Result result = build_one(on_networks({}));
    CHECK(decision(result, "app")->reason.find("not attached to any network") != std::string::npos);
  }
}

TEST_CASE("useBindPortIP", "[labels][address]") {
  struct Case {
    const char* what;
    ContainerPort port;
    std::string url;
  };
  const std::vector<Case> cases = {
      {"published on an address", {80, "tcp", "192.0.2.10", "32768"}, "http://192.0.2.10:32768"},
      {"published on every IPv4 address", {80, "tcp", "0.0.0.0", "8000"}, "http://127.0.0.1:8000"},
      {"published on every IPv6 address", {80, "tcp", "::", "8000"}, "http://[::1]:8000"},
      {"not published: the container's address", {80, "tcp", "", ""}, "http://172.18.0.2:80"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      ContainerInfo info = container("app", {});
      info.ports = {c.port};
      ProviderOptions options;
      options.use_bind_port_ip = true;
      Result result = build_one(info, options);
      CHECK(server_urls(result, "app") == std::vector<std::string>{c.url});
    }
  }
}

}  // namespace berth::labels::test
