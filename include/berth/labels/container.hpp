#pragma once
// What the label decoder needs to know about one container: the Docker provider fills it from
// `GET /containers/{id}/json`; tests build it by hand.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace berth::labels {

struct ContainerNetwork {
  std::string ipv4;         ///< NetworkSettings.Networks[n].IPAddress ("" when stopped)
  std::string global_ipv6;  ///< NetworkSettings.Networks[n].GlobalIPv6Address
};

struct ContainerPort {
  std::uint16_t number = 0;
  std::string protocol = "tcp";
  std::string host_ip;    ///< published HostIp, empty when not published
  std::string host_port;  ///< published HostPort, empty when not published
  friend bool operator==(const ContainerPort&, const ContainerPort&) = default;
};

struct ContainerInfo {
  std::string id;    ///< 64 hex digits
  std::string name;  ///< without the leading '/'
  std::map<std::string, std::string> labels;
  std::string state;   ///< State.Status: created|running|paused|restarting|removing|exited|dead
  std::string health;  ///< State.Health.Status, empty when the container has no healthcheck
  std::string network_mode;                          ///< HostConfig.NetworkMode
  std::map<std::string, ContainerNetwork> networks;  ///< by network name
  /// Exposed ports (NetworkSettings.Ports / Config.ExposedPorts).
  std::vector<ContainerPort> ports;
  /// Config.StopSignal as a Linux signal number (SIGTERM when absent); 0 when Docker named one
  /// berth does not know.
  int stop_signal = 15;
  /// For `network_mode: container:<x>`: the container whose network stack this one shares, when the
  /// provider could inspect it.
  std::vector<ContainerInfo> network_source;
  /// Set by the provider on `stop`, or a `kill` with its stop signal or SIGKILL, until the
  /// container is gone or runs again after a start: no new requests go there.
  bool draining = false;
};

}  // namespace berth::labels
