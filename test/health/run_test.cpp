// The real `berth` process with the file provider and an active health check: a server whose check
// fails shows DOWN in the API and the metrics, a service with no server up answers 503, and both
// recover when the check passes again.

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../proxy/backend.hpp"
#include "support/berth_log.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using berth::test::TempDir;

namespace {

using berth::proxy::test::Backend;
using berth::proxy::test::Request;
using berth::proxy::test::Response;
using berth::test::ChildProcess;
using berth::test::entry_point_port;
using berth::test::eventually;
using berth::test::http_get;
using namespace std::chrono_literals;

}  // namespace

TEST_CASE("berth shows a failing server DOWN and answers 503 when no server of a service is up") {
  std::atomic<unsigned> status{200};
  Backend backend("one", [&](const Request&, Response& response, std::size_t) {
    response.result(status.load());
    return true;
  });
  TempDir dir("berth-health");
  const auto file = dir.path() / "dynamic.yml";
  std::ofstream(file) << "http:\n"
                         "  routers:\n"
                         "    app:\n"
                         "      rule: PathPrefix(`/`)\n"
                         "      service: app\n"
                         "  services:\n"
                         "    app:\n"
                         "      loadBalancer:\n"
                         "        healthCheck:\n"
                         "          path: /health\n"
                         "          interval: 50ms\n"
                         "        servers:\n"
                         "          - url: "
                      << backend.url() << "\n";
  auto started = ChildProcess::start(
      BERTH_BINARY,
      {"--entrypoints.web.address=127.0.0.1:0", "--entrypoints.traefik.address=127.0.0.1:0",
       "--api.insecure=true", "--metrics.prometheus=true", "--log.level=INFO",
       "--providers.file.filename=" + file.string()},
      {}, ChildProcess::Stderr::capture);
  REQUIRE(started);
  ChildProcess berth = std::move(*started);
  const std::uint16_t api = entry_point_port(berth, "traefik");
  const std::uint16_t web = entry_point_port(berth, "web");
  REQUIRE(berth.read_until_contains("1 routers,", 10s));

  const std::string server_status = "\"" + backend.url() + "\":\"";
  const auto service_shows = [&](const std::string& state) {
    auto response = http_get("127.0.0.1", api, "/api/http/services/app@file", 2s);
    return response && response->body.find(server_status + state + "\"") != std::string::npos;
  };
  REQUIRE(eventually([&] { return backend.requests() >= 1; }));
  CHECK(service_shows("UP"));
  auto ok = http_get("127.0.0.1", web, "/", 2s);
  REQUIRE(ok);
  CHECK(ok->status == 200);

  status = 500;
  REQUIRE(eventually([&] { return service_shows("DOWN"); }));
  auto unavailable = http_get("127.0.0.1", web, "/", 2s);
  REQUIRE(unavailable);
  CHECK(unavailable->status == 503);
  auto metrics = http_get("127.0.0.1", api, "/metrics", 2s);
  REQUIRE(metrics);
  CHECK_THAT(metrics->body,
             Catch::Contains("server_up{service=\"app@file\",url=\"" + backend.url() + "\"} 0"));
  CHECK(berth.read_until_contains("of service app@file is down: received status 500", 5s));

  status = 200;
  REQUIRE(eventually([&] { return service_shows("UP"); }));
  auto back = http_get("127.0.0.1", web, "/", 2s);
  REQUIRE(back);
  CHECK(back->status == 200);

  REQUIRE(berth.signal(SIGTERM));
  auto exit = berth.wait(15s);
  REQUIRE(exit);
  CHECK(*exit == 0);
}
