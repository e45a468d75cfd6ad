// Bytes -> containers with labels -> build_configuration, which must never crash, and whose output
// must hold together: a decision per container, and every router and server it emits is usable.
//
// Input: the first byte picks provider options and container states; the rest is lines. A line
// "---" starts the next container (at most 4); any other line is a label, split at the first '='.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "berth/labels/labels.hpp"

namespace {

using berth::labels::ContainerInfo;
using berth::labels::ContainerNetwork;
using berth::labels::ContainerPort;

constexpr std::size_t max_containers = 4;

ContainerInfo make_container(std::size_t index, std::uint8_t flags) {
  ContainerInfo c;
  c.id = std::string(63, '0') + std::to_string(index);
  c.name = "c" + std::to_string(index);
  c.state = (flags & 0x10) != 0 && index == 0 ? "exited" : "running";
  c.health = (flags & 0x20) != 0 && index == 1 ? "unhealthy" : "";
  c.draining = (flags & 0x40) != 0 && index == 2;
  c.network_mode = (flags & 0x80) != 0 && index == 3 ? "host" : "bridge";
  c.networks["net"] = ContainerNetwork{"10.0.0." + std::to_string(index + 1), ""};
  if (index % 2 == 1) c.networks["v6"] = ContainerNetwork{"", "2001:db8::" + std::to_string(index)};
  c.ports.push_back(ContainerPort{static_cast<std::uint16_t>(80 + index), "tcp", "0.0.0.0",
                                  std::to_string(8000 + index)});
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  berth::labels::ProviderOptions options;
  options.exposed_by_default = (flags & 0x01) == 0;
  options.allow_empty_services = (flags & 0x02) != 0;
  options.use_bind_port_ip = (flags & 0x04) != 0;
  if ((flags & 0x08) != 0) {
    options.default_rule = "Host(`{{ index .Labels \"host\" }}.{{ normalize .Name | lower }}`)";
    options.own_networks = {"v6"};
  }

  std::vector<ContainerInfo> containers{make_container(0, flags)};
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line == "---") {
      if (containers.size() == max_containers) break;
      containers.push_back(make_container(containers.size(), flags));
      continue;
    }
    std::size_t equals = line.find('=');
    std::string key(line.substr(0, equals));
    std::string value(equals == std::string_view::npos ? "" : line.substr(equals + 1));
    containers.back().labels[key] = value;
  }

  berth::labels::Result result = berth::labels::build_configuration(containers, options);

  if (result.containers.size() != containers.size()) std::abort();
  for (const auto& [name, router] : result.configuration.http.routers) {
    if (name.empty() || router.rule.empty() || router.service.empty()) std::abort();
  }
  for (const auto& [name, service] : result.configuration.http.services) {
    if (name.empty()) std::abort();
    if (const auto* lb = std::get_if<berth::config::LoadBalancer>(&service.kind)) {
      for (const auto& server : lb->servers) {
        if (server.url.find("://") == std::string::npos) std::abort();
      }
    }
  }
  return 0;
}
