#include "address.hpp"

#include <algorithm>

namespace berth::labels {

namespace {

constexpr int max_network_source_depth = 8;

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

const std::string& network_ip(const ContainerNetwork& network) {
  return network.ipv4.empty() ? network.global_ipv6 : network.ipv4;
}

std::string compose_project(const ContainerInfo& container) {
  auto it = container.labels.find("com.docker.compose.project");
  return it == container.labels.end() ? std::string() : it->second;
}

// The network named `wanted`: exactly, or as compose prefixes it (`<project>_<name>`), so that the
// name written in the compose file works too.
const std::string* find_network(const ContainerInfo& container,
                                const std::vector<std::string>& candidates,
                                std::string_view wanted) {
  for (const auto& name : candidates) {
    if (name == wanted) return &name;
  }
  std::string project = compose_project(container);
  if (project.empty()) return nullptr;
  std::string prefixed = project + "_" + std::string(wanted);
  for (const auto& name : candidates) {
    if (name == prefixed) return &name;
  }
  return nullptr;
}

std::variant<Address, std::string> choose_in(const ContainerInfo& container,
                                             std::string_view label_network,
                                             const ProviderOptions& options, int depth) {
  const std::string& mode = container.network_mode;
  if (mode == "host") {
    // host.docker.internal, Traefik's first choice, does not resolve from berth's side without DNS
    // help; the host's loopback reaches a host-network container when berth shares the host too.
    return Address{"127.0.0.1", "host", {}};
  }
  if (mode == "none") return std::string("network_mode none: the container has no network");
  if (mode.starts_with("container:")) {
    std::string target = mode.substr(std::string_view("container:").size());
    if (container.network_source.empty()) {
      return "shares the network of container " + target + ", which could not be inspected";
    }
    if (depth >= max_network_source_depth) {
      return std::string("network_mode container: chain is too long");
    }
    auto chosen = choose_in(container.network_source.front(), label_network, options, depth + 1);
    if (auto* address = std::get_if<Address>(&chosen)) {
      address->network = "container:" + target + " " + address->network;
    }
    return chosen;
  }

  // std::map keeps the names sorted, which makes every fallback below deterministic.
  std::vector<std::string> candidates;
  std::vector<std::string> all;
  for (const auto& [name, network] : container.networks) {
    all.push_back(name);
    if (!network_ip(network).empty()) candidates.push_back(name);
  }
  if (candidates.empty()) {
    if (all.empty()) return std::string("not attached to any network, so it has no IP address");
    return "no IP address on its networks (" + join_names(all) + ")";
  }

  Address address;
  auto take = [&](const std::string& name) {
    address.ip = network_ip(container.networks.at(name));
    address.network = name;
    return address;
  };

  struct Wanted {
    std::string_view name;
    std::string_view source;
  };
  for (Wanted wanted : {Wanted{label_network, "label traefik.docker.network"},
                        Wanted{options.network, "providers.docker.network"}}) {
    if (wanted.name.empty()) continue;
    if (const std::string* found = find_network(container, candidates, wanted.name)) {
      return take(*found);
    }
    address.warnings.push_back("network \"" + std::string(wanted.name) + "\" (" +
                               std::string(wanted.source) +
                               ") has no address on this container, which is on " +
                               join_names(candidates) + "; choosing another");
  }

  std::vector<std::string> own = options.own_networks;
  std::sort(own.begin(), own.end());
  for (const auto& name : own) {
    if (std::binary_search(candidates.begin(), candidates.end(), name)) return take(name);
  }
  if (candidates.size() > 1) {
    address.warnings.push_back("container is on several networks (" + join_names(candidates) +
                               "); using " + candidates.front() +
                               "; set the label traefik.docker.network or "
                               "providers.docker.network to choose");
  }
  return take(candidates.front());
}

}  // namespace

std::variant<Address, std::string> choose_address(const ContainerInfo& container,
                                                  std::string_view label_network,
                                                  const ProviderOptions& options) {
  return choose_in(container, label_network, options, 0);
}

std::optional<std::uint16_t> lowest_tcp_port(const ContainerInfo& container) {
  std::optional<std::uint16_t> lowest;
  for (const auto& port : container.ports) {
    if (port.number == 0 || (!port.protocol.empty() && port.protocol != "tcp")) continue;
    if (!lowest || port.number < *lowest) lowest = port.number;
  }
  return lowest;
}

std::string make_url(std::string_view scheme, std::string_view host, std::string_view port) {
  std::string url(scheme);
  url += "://";
  if (host.find(':') != std::string_view::npos && !host.starts_with("[")) {
    url += '[';
    url += host;
    url += ']';
  } else {
    url += host;
  }
  url += ':';
  url += port;
  return url;
}

}  // namespace berth::labels
