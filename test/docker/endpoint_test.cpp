#include <catch2/catch.hpp>
#include <map>

#include "berth/docker/endpoint.hpp"

using namespace berth::docker;

namespace {

Environment environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("parse_endpoint accepts the DOCKER_HOST forms", "[endpoint]") {
  struct Case {
    std::string text;
    std::string expected;  // Endpoint::to_string()
    std::string host_header;
  };
  const auto c = GENERATE(values<Case>({
      {"unix:///var/run/docker.sock", "unix:///var/run/docker.sock", "localhost"},
      {"unix:///run/user/1000/docker.sock", "unix:///run/user/1000/docker.sock", "localhost"},
      {"tcp://10.0.0.5:2375", "tcp://10.0.0.5:2375", "10.0.0.5:2375"},
      {"tcp://docker.internal", "tcp://docker.internal:2375", "docker.internal:2375"},
      {"tcp://docker:1234/", "tcp://docker:1234", "docker:1234"},
      {"tcp://[::1]:2375", "tcp://[::1]:2375", "[::1]:2375"},
      {"127.0.0.1:2375", "tcp://127.0.0.1:2375", "127.0.0.1:2375"},
      {"localhost:4243", "tcp://localhost:4243", "localhost:4243"},
      {"https://docker:2376", "https://docker:2376", "docker:2376"},
  }));
  CAPTURE(c.text);
  const auto parsed = parse_endpoint(c.text);
  REQUIRE(std::holds_alternative<Endpoint>(parsed));
  CHECK(std::get<Endpoint>(parsed).to_string() == c.expected);
  CHECK(std::get<Endpoint>(parsed).host_header() == c.host_header);
}

TEST_CASE("parse_endpoint rejects malformed endpoints and names them", "[endpoint]") {
  const auto text =
      GENERATE(as<std::string>{}, "", "unix://relative.sock", "unix://", "ssh://user@host",
               "npipe:////./pipe/docker_engine", "tcp://:2375", "tcp://host:0", "tcp://host:70000",
               "tcp://host:12ab", "tcp://[::1", "tcp://host:2375/path");
  CAPTURE(text);
  const auto parsed = parse_endpoint(text);
  REQUIRE(std::holds_alternative<EndpointError>(parsed));
  const auto& message = std::get<EndpointError>(parsed).message;
  CHECK_FALSE(message.empty());
  if (!text.empty()) CHECK(message.find(text) != std::string::npos);
}

TEST_CASE("a tcp endpoint with TLS defaults to port 2376", "[endpoint]") {
  const auto parsed = parse_endpoint("tcp://docker", TlsOptions{"ca", "cert", "key", false});
  REQUIRE(std::holds_alternative<Endpoint>(parsed));
  const auto& endpoint = std::get<Endpoint>(parsed);
  CHECK(endpoint.port == 2376);
  CHECK(endpoint.host_header() == "docker:2376");
  REQUIRE(endpoint.tls);
  CHECK(endpoint.tls->cert == "cert");
}

TEST_CASE("resolve_endpoint prefers the flag then DOCKER_HOST then the default socket",
          "[endpoint]") {
  struct Case {
    std::string configured;
    std::map<std::string, std::string> env;
    std::string expected;
  };
  const auto c = GENERATE(values<Case>({
      {"", {}, "unix:///var/run/docker.sock"},
      {"", {{"DOCKER_HOST", "unix:///tmp/d.sock"}}, "unix:///tmp/d.sock"},
      {"", {{"DOCKER_HOST", "tcp://remote:2375"}}, "tcp://remote:2375"},
      {"tcp://flag:2375", {{"DOCKER_HOST", "tcp://remote:2375"}}, "tcp://flag:2375"},
      {"", {{"DOCKER_HOST", ""}}, "unix:///var/run/docker.sock"},
      // TLS variables say nothing about a local socket.
      {"",
       {{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", "/certs"}},
       "unix:///var/run/docker.sock"},
  }));
  const auto parsed = resolve_endpoint(c.configured, std::nullopt, environment(c.env));
  REQUIRE(std::holds_alternative<Endpoint>(parsed));
  CHECK(std::get<Endpoint>(parsed).to_string() == c.expected);
  CHECK_FALSE(std::get<Endpoint>(parsed).tls);
}

TEST_CASE("resolve_endpoint: TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH", "[endpoint]") {
  struct Case {
    std::map<std::string, std::string> env;
    bool tls;
    std::string ca;
    bool insecure;
    std::uint16_t port;
  };
  const auto c = GENERATE(values<Case>({
      {{{"DOCKER_HOST", "tcp://d"}, {"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", "/certs"}},
       true,
       "/certs/ca.pem",
       false,
       2376},
      // Verify without a path: the CLI's default ~/.docker.
      {{{"DOCKER_HOST", "tcp://d"}, {"DOCKER_TLS_VERIFY", "1"}, {"HOME", "/home/u"}},
       true,
       "/home/u/.docker/ca.pem",
       false,
       2376},
      // A path without DOCKER_TLS_VERIFY: TLS without verification (Go SDK).
      {{{"DOCKER_HOST", "tcp://d"}, {"DOCKER_CERT_PATH", "/certs"}},
       true,
       "/certs/ca.pem",
       true,
       2376},
      {{{"DOCKER_HOST", "tcp://d"}}, false, "", false, 2375},
      {{{"DOCKER_HOST", "tcp://d:1234"}, {"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", "/c"}},
       true,
       "/c/ca.pem",
       false,
       1234},
  }));
  const auto parsed = resolve_endpoint("", std::nullopt, environment(c.env));
  REQUIRE(std::holds_alternative<Endpoint>(parsed));
  const auto& endpoint = std::get<Endpoint>(parsed);
  CHECK(endpoint.port == c.port);
  REQUIRE(endpoint.tls.has_value() == c.tls);
  if (c.tls) {
    CHECK(endpoint.tls->ca == c.ca);
    CHECK(endpoint.tls->insecure_skip_verify == c.insecure);
    CHECK(endpoint.to_string().starts_with("https://"));
  }
}

TEST_CASE("resolve_endpoint: explicit TLS options win over the environment", "[endpoint]") {
  const TlsOptions tls{"/mine/ca.pem", "/mine/cert.pem", "/mine/key.pem", true};
  const auto parsed =
      resolve_endpoint("tcp://docker:2376", tls,
                       environment({{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", "/env"}}));
  REQUIRE(std::holds_alternative<Endpoint>(parsed));
  REQUIRE(std::get<Endpoint>(parsed).tls);
  CHECK(*std::get<Endpoint>(parsed).tls == tls);
}

TEST_CASE("resolve_endpoint reports a malformed DOCKER_HOST", "[endpoint]") {
  const auto parsed = resolve_endpoint("", std::nullopt, environment({{"DOCKER_HOST", "ftp://x"}}));
  REQUIRE(std::holds_alternative<EndpointError>(parsed));
  CHECK(std::get<EndpointError>(parsed).message.find("ftp") != std::string::npos);
}
