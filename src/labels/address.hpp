#pragma once
// Where a container's servers are reached: its port and the IP of the network berth uses for it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/labels/container.hpp"
#include "berth/labels/labels.hpp"

namespace berth::labels {

struct Address {
  std::string ip;       ///< IPv4, or IPv6 without brackets
  std::string network;  ///< the network it was taken from ("host" for network_mode host)
  std::vector<std::string> warnings;
};

/// Chooses the network and IP (see labels.hpp): the `traefik.docker.network` label
/// (`label_network`), then options.network, then a network shared with berth itself, then the only
/// network, else the first by name with a warning. Returns the reason when there is no address.
std::variant<Address, std::string> choose_address(const ContainerInfo& container,
                                                  std::string_view label_network,
                                                  const ProviderOptions& options);

/// The lowest exposed TCP port, as Traefik picks it.
std::optional<std::uint16_t> lowest_tcp_port(const ContainerInfo& container);

/// `scheme://host:port`, with an IPv6 host in brackets.
std::string make_url(std::string_view scheme, std::string_view host, std::string_view port);

}  // namespace berth::labels
