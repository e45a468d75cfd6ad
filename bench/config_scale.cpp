// How long the control plane takes to turn N containers into a configuration (labels) and then into
// a routing snapshot (runtime): the work behind every published change.
//   build/release/bench/config_scale [containers]   (default 1000; prints medians of 7 runs)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "berth/labels/labels.hpp"
#include "berth/runtime/snapshot.hpp"

namespace {

using Clock = std::chrono::steady_clock;

/// Compose-style replicas: ten per service, each service with a Host router and a sticky cookie.
std::vector<berth::labels::ContainerInfo> containers(int count) {
  std::vector<berth::labels::ContainerInfo> out;
  for (int i = 0; i < count; ++i) {
    const std::string service = "svc" + std::to_string(i / 10);
    berth::labels::ContainerInfo container;
    container.id = std::string(60, '0') + std::to_string(1000 + i);
    container.name = "shop_" + service + "_" + std::to_string(i % 10 + 1);
    container.state = "running";
    container.labels = {
        {"com.docker.compose.project", "shop"},
        {"com.docker.compose.service", service},
        {"traefik.enable", "true"},
        {"traefik.http.routers." + service + ".rule", "Host(`" + service + ".example`)"},
        {"traefik.http.services." + service + ".loadbalancer.server.port", "8080"},
        {"traefik.http.services." + service + ".loadbalancer.sticky.cookie.name", "sid"}};
    container.networks["shop_default"].ipv4 =
        "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 2);
    container.ports.push_back({8080, "tcp", "", ""});
    out.push_back(std::move(container));
  }
  return out;
}

double median_ms(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1000;
  const auto input = containers(count);
  berth::runtime::BuildOptions options;
  options.entry_points = {"web"};
  options.default_entry_points = {"web"};

  std::vector<double> labels_ms;
  std::vector<double> snapshot_ms;
  std::size_t routers = 0;
  std::size_t servers = 0;
  for (int run = 0; run < 7; ++run) {
    const auto start = Clock::now();
    const auto result = berth::labels::build_configuration(input, {});
    const auto decoded = Clock::now();
    berth::config::Configuration qualified;
    berth::config::add_qualified(qualified, result.configuration, "docker");
    const auto build = berth::runtime::build_snapshot(qualified, options);
    const auto built = Clock::now();
    labels_ms.push_back(std::chrono::duration<double, std::milli>(decoded - start).count());
    snapshot_ms.push_back(std::chrono::duration<double, std::milli>(built - decoded).count());
    routers = result.configuration.http.routers.size();
    servers = 0;
    for (const auto& service : build.snapshot->services) servers += service.servers.size();
  }
  std::printf(
      "%d containers -> %zu routers, %zu servers: labels %.1f ms, snapshot %.1f ms (medians of "
      "7)\n",
      count, routers, servers, median_ms(labels_ms), median_ms(snapshot_ms));
}
