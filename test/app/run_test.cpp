// Runs the real `berth` process with the file provider in front of berth-whoami backends: the
// wiring of providers -> builder -> proxy and API, shutdown, and `berth healthcheck`.

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "docker/fake_daemon.hpp"
#include "support/berth_log.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using berth::test::TempDir;

namespace {

using berth::test::ChildProcess;
using berth::test::entry_point_port;
using berth::test::http_get;
using namespace std::chrono_literals;

std::uint16_t start_backend(std::vector<ChildProcess>& backends, const std::string& name) {
  auto backend = ChildProcess::start(BERTH_WHOAMI_BINARY, {"--port", "0", "--name", name});
  REQUIRE(backend);
  auto port = backend->read_until("listening on :", 5s);
  REQUIRE(port);
  backends.push_back(std::move(*backend));
  return static_cast<std::uint16_t>(std::stoi(*port));
}

/// Router `app` over both backends, after `extra_routers` (YAML at the routers' indentation).
std::string dynamic_configuration(std::uint16_t first, std::uint16_t second,
                                  const std::string& extra_routers) {
  return "http:\n"
         "  routers:\n" +
         extra_routers +
         "    app:\n"
         "      rule: PathPrefix(`/`)\n"
         "      service: app\n"
         "  services:\n"
         "    app:\n"
         "      loadBalancer:\n"
         "        servers:\n"
         "          - url: http://127.0.0.1:" +
         std::to_string(first) +
         "\n"
         "          - url: http://127.0.0.1:" +
         std::to_string(second) + "\n";
}

/// GET of one API resource, retried while it is not found: the API shows a configuration a moment
/// after berth logs it as applied.
berth::test::Result<berth::test::HttpResponse> api_get_resource(std::uint16_t port,
                                                                const std::string& path) {
  auto response = http_get("127.0.0.1", port, path, 5s);
  for (int attempt = 0; attempt < 50 && response && response->status == 404; ++attempt) {
    std::this_thread::sleep_for(20ms);
    response = http_get("127.0.0.1", port, path, 5s);
  }
  return response;
}

struct Cluster {
  TempDir dir{"berth-run"};
  std::vector<ChildProcess> backends;
  std::optional<ChildProcess> berth;
  std::uint16_t web = 0;
  std::uint16_t api = 0;

  /// Ready once berth logs a configuration that ends with `applied`.
  explicit Cluster(std::vector<std::string> extra_flags = {}, const std::string& extra_routers = {},
                   const std::string& applied = "1 routers,") {
    const std::uint16_t first = start_backend(backends, "one");
    const std::uint16_t second = start_backend(backends, "two");
    const auto file = dir.path() / "dynamic.yml";
    std::ofstream(file) << dynamic_configuration(first, second, extra_routers);
    std::vector<std::string> flags = {"--entrypoints.web.address=127.0.0.1:0",
                                      "--entrypoints.traefik.address=127.0.0.1:0",
                                      "--api.insecure=true",
                                      "--ping=true",
                                      "--log.level=INFO",
                                      "--providers.file.filename=" + file.string()};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    auto started = ChildProcess::start(BERTH_BINARY, flags, {}, ChildProcess::Stderr::capture);
    REQUIRE(started);
    berth.emplace(std::move(*started));
    api = entry_point_port(*berth, "traefik");
    web = entry_point_port(*berth, "web");
    REQUIRE(berth->read_until_contains(applied, 10s));
  }
};

}  // namespace

TEST_CASE("berth routes a file-provider router to its servers in turn and lists it in the API") {
  Cluster cluster;
  // One keep-alive connection stays on one worker, whose balancer alternates exactly.
  berth::test::HttpClient client("127.0.0.1", cluster.web);
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    auto response = client.get("/");
    REQUIRE(response);
    CHECK(response->status == 200);
    const auto at = response->body.find("Name: ");
    REQUIRE(at != std::string::npos);
    names.push_back(response->body.substr(at + 6, 3));
  }
  CHECK(names == std::vector<std::string>{"one", "two", "one", "two"});

  auto routers = http_get("127.0.0.1", cluster.api, "/api/http/routers", 5s);
  REQUIRE(routers);
  CHECK(routers->status == 200);
  CHECK_THAT(routers->body, Catch::Contains("\"name\":\"app@file\""));
  CHECK_THAT(routers->body, Catch::Contains("\"using\":[\"web\"]"));

  REQUIRE(cluster.berth->signal(SIGTERM));
  auto status = cluster.berth->wait(15s);
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("berth healthcheck exits 0 while /ping answers and 1 once berth is gone") {
  Cluster cluster;
  const std::string address =
      "--entrypoints.traefik.address=127.0.0.1:" + std::to_string(cluster.api);
  const auto healthcheck = [&] {
    auto probe = ChildProcess::start(BERTH_BINARY, {"healthcheck", "--ping=true", address}, {},
                                     ChildProcess::Stderr::capture);
    REQUIRE(probe);
    auto status = probe->wait(10s);
    REQUIRE(status);
    return *status;
  };
  CHECK(healthcheck() == 0);
  REQUIRE(cluster.berth->signal(SIGTERM));
  REQUIRE(cluster.berth->wait(15s));
  CHECK(healthcheck() == 1);
}

TEST_CASE("an unreachable Docker daemon leaves the other providers' routes serving") {
  Cluster cluster(
      {"--providers.docker=true", "--providers.docker.endpoint=unix:///nonexistent/docker.sock"});
  auto response = http_get("127.0.0.1", cluster.web, "/", 5s);
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("Docker routers use file services and file routers use Docker middlewares") {
  berth::docker::test::FakeDaemon daemon;
  // Its own service points at the container's address, which gets no traffic here: every router
  // below uses the file provider's loopback backends.
  daemon.put_container(berth::docker::test::FakeDaemon::make_container(
      berth::docker::test::container_id(1), "dock",
      {{"traefik.http.routers.dock.rule", "Host(`dock.test`)"},
       {"traefik.http.routers.dock.service", "app@file"},
       {"traefik.http.routers.dock.middlewares", "via"},
       {"traefik.http.routers.broken.rule", "Host(`broken.test`)"},
       {"traefik.http.routers.broken.service", "missing@file"},
       {"traefik.http.middlewares.via.headers.customresponseheaders.X-Via", "docker"}}));
  const std::string file_router =
      "    viadocker:\n"
      "      rule: Host(`file.test`)\n"
      "      service: app\n"
      "      middlewares: [via@docker]\n";
  Cluster cluster({"--providers.docker=true", "--providers.docker.endpoint=" + daemon.endpoint(),
                   "--metrics.prometheus=true"},
                  file_router, "4 routers,");

  berth::test::HttpClient client("127.0.0.1", cluster.web);
  auto docker_to_file = client.get("/", {{"Host", "dock.test"}});
  REQUIRE(docker_to_file);
  CHECK(docker_to_file->status == 200);
  CHECK_THAT(docker_to_file->body, Catch::Contains("Name: "));
  CHECK(docker_to_file->header("X-Via") == "docker");

  auto file_to_docker = client.get("/", {{"Host", "file.test"}});
  REQUIRE(file_to_docker);
  CHECK(file_to_docker->status == 200);
  CHECK(file_to_docker->header("X-Via") == "docker");

  // A reference to a service nobody defines disables only that router, and says so.
  auto router = api_get_resource(cluster.api, "/api/http/routers/broken@docker");
  REQUIRE(router);
  CHECK(router->status == 200);
  CHECK_THAT(router->body, Catch::Contains("\"status\":\"disabled\""));
  CHECK_THAT(router->body, Catch::Contains("missing@file"));

  // The Docker provider's own counters are on /metrics with Traefik's families.
  auto metrics = http_get("127.0.0.1", cluster.api, "/metrics", 5s);
  REQUIRE(metrics);
  CHECK_THAT(metrics->body, Catch::Contains("\nberth_docker_events_total "));
  CHECK_THAT(metrics->body, Catch::Contains("\nberth_containers_draining 0\n"));
  CHECK_THAT(metrics->body, Catch::Contains("traefik_service_requests_total{code=\"200\""));
}

TEST_CASE("api@internal serves the API and dashboard only through a router, behind basicauth") {
  TempDir dir("berth-run");
  const auto file = dir.path() / "dynamic.yml";
  // sam:secret; the ping router's longer rule gives it the higher priority.
  std::ofstream(file) << "http:\n"
                         "  routers:\n"
                         "    dashboard:\n"
                         "      rule: Host(`berth.test`)\n"
                         "      service: api@internal\n"
                         "      middlewares: [auth]\n"
                         "    health:\n"
                         "      rule: Host(`berth.test`) && Path(`/ping`)\n"
                         "      service: ping@internal\n"
                         "    teapot:\n"
                         "      rule: Host(`noop.test`)\n"
                         "      service: noop@internal\n"
                         "  middlewares:\n"
                         "    auth:\n"
                         "      basicAuth:\n"
                         "        users: ['sam:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=']\n";
  auto started =
      ChildProcess::start(BERTH_BINARY,
                          {"--entrypoints.web.address=127.0.0.1:0",
                           "--entrypoints.traefik.address=127.0.0.1:0", "--api=true", "--ping=true",
                           "--log.level=INFO", "--providers.file.filename=" + file.string()},
                          {}, ChildProcess::Stderr::capture);
  REQUIRE(started);
  ChildProcess& berth = *started;
  const std::uint16_t traefik = entry_point_port(berth, "traefik");
  const std::uint16_t web = entry_point_port(berth, "web");
  REQUIRE(berth.read_until_contains("3 routers,", 10s));

  berth::test::HttpClient client("127.0.0.1", web);
  auto refused = client.get("/api/http/routers", {{"Host", "berth.test"}});
  REQUIRE(refused);
  CHECK(refused->status == 401);

  const berth::test::Headers authorized = {{"Host", "berth.test"},
                                           {"Authorization", "Basic c2FtOnNlY3JldA=="}};
  auto routers = client.get("/api/http/routers", authorized);
  REQUIRE(routers);
  CHECK(routers->status == 200);
  CHECK_THAT(routers->body, Catch::Contains("\"name\":\"dashboard@file\""));
  auto service = client.get("/api/http/services/api@internal", authorized);
  REQUIRE(service);
  CHECK(service->status == 200);
  auto dashboard = client.get("/dashboard/", authorized);
  REQUIRE(dashboard);
  CHECK(dashboard->status == 200);
  CHECK_THAT(dashboard->body, Catch::Contains("<html"));

  auto ping = client.get("/ping", {{"Host", "berth.test"}});
  REQUIRE(ping);
  CHECK(ping->status == 200);
  CHECK(ping->body == "OK");

  // noop@internal answers 418 with nothing in the body, as Traefik's does.
  auto noop = client.get("/", {{"Host", "noop.test"}});
  REQUIRE(noop);
  CHECK(noop->status == 418);
  CHECK(noop->body.empty());

  // Without api.insecure the `traefik` entry point has ping, and no API.
  auto direct = http_get("127.0.0.1", traefik, "/api/http/routers", 5s);
  REQUIRE(direct);
  CHECK(direct->status == 404);
}

TEST_CASE("ACME resolvers start berth with a warning, and routers that name one say why") {
  const std::string router =
      "    secure:\n"
      "      rule: Host(`secure.test`)\n"
      "      service: app\n"
      "      tls:\n"
      "        certResolver: le\n";
  Cluster cluster({"--certificatesresolvers.le.acme.email=ops@example.com",
                   "--certificatesresolvers.le.acme.tlschallenge=true"},
                  router, "2 routers,");
  auto api = api_get_resource(cluster.api, "/api/http/routers/secure@file");
  REQUIRE(api);
  CHECK(api->status == 200);
  CHECK_THAT(api->body, Catch::Contains("\"status\":\"warning\""));
  CHECK_THAT(api->body, Catch::Contains("berth obtains no ACME certificates"));
  // The rest of the configuration serves as before.
  auto response = http_get("127.0.0.1", cluster.web, "/", 5s);
  REQUIRE(response);
  CHECK(response->status == 200);
}
