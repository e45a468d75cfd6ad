#pragma once
// The end-to-end tests drive the real Docker Engine through its CLI, as a user would. Everything a
// test starts carries the label org.berth.test=<run id> and is removed when the test ends, pass or
// fail; a last ctest removes whatever a crashed run left.

#include <cstdint>
#include <string>
#include <vector>

#include "support/result.hpp"

namespace berth::e2e {

/// Runs `docker <args>` (arguments are passed without a shell); stdout with trailing newlines
/// trimmed, or the failure with docker's own message.
test::Result<std::string> docker(const std::vector<std::string>& args);

/// A Docker network and the containers of one test, removed on destruction.
class Sandbox {
 public:
  Sandbox();
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& network() const { return network_; }
  const std::string& label() const { return label_; }

  /// Starts berth (image berth:e2e) with the Docker socket mounted read-only, on this network,
  /// ports 80 and 8080 published on 127.0.0.1; `docker_args` go to `docker run` (e.g. more
  /// mounts). Returns the container name.
  std::string start_berth(const std::vector<std::string>& flags,
                          const std::vector<std::string>& docker_args = {});

  /// Starts berth-whoami (image berth-whoami:e2e) as `name` with these labels, on this network.
  std::string start_app(const std::string& name, const std::vector<std::string>& labels,
                        const std::vector<std::string>& extra_args = {});

  /// The host port on 127.0.0.1 that `container_port` of `container` is published on.
  std::uint16_t published_port(const std::string& container, int container_port);

 private:
  std::string run_id_;
  std::string label_;
  std::string network_;
};

}  // namespace berth::e2e
