#include <catch2/catch.hpp>

#include "berth/docker/api.hpp"
#include "berth/docker/provider.hpp"

using namespace berth::docker;

namespace {

template <class T>
T ok(Result<T> result) {
  if (const auto* error = std::get_if<Error>(&result)) FAIL(error->message);
  return std::get<T>(std::move(result));
}

}  // namespace

TEST_CASE("parse_api_version", "[parse]") {
  CHECK(parse_api_version("1.47") == ApiVersion{1, 47});
  CHECK(parse_api_version("1.9") == ApiVersion{1, 9});
  CHECK(ApiVersion{1, 9} < ApiVersion{1, 24});
  CHECK(ApiVersion{1, 47}.to_string() == "1.47");
  const auto bad = GENERATE(as<std::string>{}, "", "1", "1.", ".5", "a.b", "1.4x", "-1.2");
  CAPTURE(bad);
  CHECK_FALSE(parse_api_version(bad));
}

TEST_CASE("parse_inspect: a full container", "[parse]") {
  const auto info = ok(parse_inspect(R"({
    "Id": "abc123", "Name": "/shop-web-1",
    "Config": {"Labels": {"traefik.enable": "true", "com.docker.compose.service": "web"},
               "ExposedPorts": {"80/tcp": {}, "53/udp": {}, "8080": {}}},
    "State": {"Status": "running", "Running": true, "Health": {"Status": "healthy"}},
    "HostConfig": {"NetworkMode": "shop_default"},
    "NetworkSettings": {
      "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"},
                           {"HostIp": "::", "HostPort": "8080"}],
                "443/tcp": null},
      "Networks": {"shop_default": {"IPAddress": "172.18.0.2", "GlobalIPv6Address": ""},
                   "v6only": {"IPAddress": "", "GlobalIPv6Address": "2001:db8::5"}}}})"));
  CHECK(info.id == "abc123");
  CHECK(info.name == "shop-web-1");
  CHECK(info.labels.at("traefik.enable") == "true");
  CHECK(info.state == "running");
  CHECK(info.health == "healthy");
  CHECK(info.network_mode == "shop_default");
  REQUIRE(info.networks.size() == 2);
  CHECK(info.networks.at("shop_default").ipv4 == "172.18.0.2");
  CHECK(info.networks.at("v6only").global_ipv6 == "2001:db8::5");
  const std::vector<berth::labels::ContainerPort> ports{
      {53, "udp", "", ""},
      {80, "tcp", "0.0.0.0", "8080"},
      {443, "tcp", "", ""},
      {8080, "tcp", "", ""},
  };
  CHECK(info.ports == ports);
  CHECK_FALSE(info.draining);
}

TEST_CASE("parse_inspect: nulls and absent fields", "[parse]") {
  const auto info = ok(parse_inspect(R"({
    "Id": "x", "Name": "/bare", "Config": {"Labels": null, "ExposedPorts": null},
    "State": {"Status": "exited"}, "HostConfig": {"NetworkMode": "container:abc"},
    "NetworkSettings": {"Ports": {}, "Networks": null}})"));
  CHECK(info.labels.empty());
  CHECK(info.health.empty());
  CHECK(info.state == "exited");
  CHECK(info.network_mode == "container:abc");
  CHECK(info.networks.empty());
  CHECK(info.ports.empty());
}

TEST_CASE("parse_signal reads Docker's signal names and numbers", "[parse]") {
  struct Case {
    std::string text;
    std::optional<int> number;
  };
  const auto c = GENERATE(values<Case>({
      {"SIGTERM", 15},
      {"TERM", 15},
      {"sigterm", 15},
      {"SIGQUIT", 3},
      {"SIGWINCH", 28},
      {"SIGKILL", 9},
      {"SIGHUP", 1},
      {"SIGUSR1", 10},
      {"SIGUSR2", 12},
      {"SIGINT", 2},
      {"SIGPWR", 30},
      {"SIGIOT", 6},
      {"SIGRTMIN", 34},
      {"SIGRTMIN+3", 37},
      {"RTMAX", 64},
      {"SIGRTMAX-2", 62},
      {"15", 15},
      {"3", 3},
      {"64", 64},
      {"", std::nullopt},
      {"0", std::nullopt},
      {"65", std::nullopt},
      {"-1", std::nullopt},
      {"SIG", std::nullopt},
      {"SIGFOO", std::nullopt},
      {"SIGTERM ", std::nullopt},
      {"SIGRTMIN+31", std::nullopt},
      {"SIGRTMIN-1", std::nullopt},
      {"SIGRTMAX+1", std::nullopt},
      {"SIGRTMIN+", std::nullopt},
      {"SIGSIGTERM", std::nullopt},
  }));
  CAPTURE(c.text);
  CHECK(parse_signal(c.text) == c.number);
}

TEST_CASE("parse_inspect reads the stop signal", "[parse]") {
  struct Case {
    std::string config;
    int stop_signal;
  };
  const auto c = GENERATE(values<Case>({
      {R"({})", 15},  // Docker's default
      {R"({"StopSignal": null})", 15},
      {R"({"StopSignal": ""})", 15},
      {R"({"StopSignal": "SIGQUIT"})", 3},
      {R"({"StopSignal": "SIGWINCH"})", 28},
      {R"({"StopSignal": "SIGRTMIN+3"})", 37},
      {R"({"StopSignal": "9"})", 9},
      {R"({"StopSignal": "SIGFOO"})", 0},  // unknown: every kill drains
  }));
  CAPTURE(c.config);
  const auto info = ok(parse_inspect(R"({"Id": "x", "Config": )" + c.config + "}"));
  CHECK(info.stop_signal == c.stop_signal);
}

TEST_CASE("parse_inspect rejects what is not a container", "[parse]") {
  const auto body = GENERATE(as<std::string>{}, "", "not json", "[]", "{}", R"({"Id": 5})");
  CAPTURE(body);
  const auto parsed = parse_inspect(body);
  REQUIRE(std::holds_alternative<Error>(parsed));
  CHECK(std::get<Error>(parsed).kind == Error::Kind::protocol);
}

TEST_CASE("parse_event reads container and network and health events", "[parse]") {
  struct Case {
    std::string line;
    std::string type;
    std::string action;
    std::string container;
    std::int64_t time_nano;
  };
  const auto c = GENERATE(values<Case>({
      {R"({"Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"name":"web"}},)"
       R"("scope":"local","time":1700000000,"timeNano":1700000000123456789})",
       "container", "start", "c1", 1700000000123456789},
      {R"({"Type":"container","Action":"health_status: healthy","Actor":{"ID":"c2"},"time":5})",
       "container", "health_status: healthy", "c2", 5'000'000'000},
      {R"({"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":)"
       R"({"container":"c3","name":"web","type":"bridge"}},"timeNano":7})",
       "network", "connect", "c3", 7},
      {R"({"Type":"image","Action":"pull","Actor":{"ID":"nginx"}})", "image", "pull", "", 0},
  }));
  const auto event = ok(parse_event(c.line));
  CHECK(event.type == c.type);
  CHECK(event.action == c.action);
  CHECK(event.container_id() == c.container);
  CHECK(event.time_nano == c.time_nano);
}

TEST_CASE("parse_event rejects malformed lines", "[parse]") {
  const auto line = GENERATE(as<std::string>{}, "", "{", "[1]", R"({"Type":"container"})");
  CAPTURE(line);
  CHECK(std::holds_alternative<Error>(parse_event(line)));
}

TEST_CASE("parse_container_list", "[parse]") {
  const auto ids = ok(parse_container_list(R"([{"Id":"a","Names":["/x"]},{"Id":"b"},{}])"));
  CHECK(ids == std::vector<std::string>{"a", "b"});
  CHECK(std::holds_alternative<Error>(parse_container_list(R"({"Id":"a"})")));
}

TEST_CASE("format_since gives seconds with nine fraction digits", "[parse]") {
  CHECK(format_since(1700000000123456789) == "1700000000.123456789");
  CHECK(format_since(1700000000000000005) == "1700000000.000000005");
  CHECK(format_since(-5) == "0.000000000");
}

TEST_CASE("berth's own container ID from cgroup and mountinfo and hostname", "[own]") {
  const std::string id(64, 'a');
  struct Case {
    std::string cgroup;
    std::optional<std::string> expected;
  };
  const auto c = GENERATE_REF(values<Case>({
      {"12:memory:/docker/" + id + "\n11:cpu:/docker/" + id + "\n", id},
      {"0::/system.slice/docker-" + id + ".scope\n", id},
      {"0::/\n", std::nullopt},
      {"0::/user.slice/user-1000.slice/session-2.scope\n", std::nullopt},
      {"12:memory:/docker/" + std::string(63, 'a') + "\n", std::nullopt},
  }));
  CHECK(container_id_from_cgroup(c.cgroup) == c.expected);

  const std::string mountinfo =
      "700 650 0:50 / / rw,relatime - overlay overlay rw\n"
      "712 700 254:1 /var/lib/docker/containers/" +
      id + "/hostname /etc/hostname rw - ext4\n";
  CHECK(container_id_from_mountinfo(mountinfo) == id);
  CHECK_FALSE(container_id_from_mountinfo("700 650 0:50 / / rw - overlay overlay rw\n"));

  CHECK(looks_like_container_id("0123456789ab"));
  CHECK(looks_like_container_id(id));
  CHECK_FALSE(looks_like_container_id("web"));
  CHECK_FALSE(looks_like_container_id("0123456789AB"));
  CHECK_FALSE(looks_like_container_id("0123456789abc"));
}
