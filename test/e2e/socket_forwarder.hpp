#pragma once
// A Unix socket that a test makes appear on demand and that forwards every connection to another
// Unix socket: the Docker daemon "coming up" at a path the test controls.

#include <memory>
#include <string>

namespace berth::e2e {

class UnixSocketForwarder {
 public:
  /// Listens on `listen_path` (created, mode 0666) and forwards each connection, both ways, to
  /// `target_path`, on a thread of its own. Throws when it cannot listen.
  UnixSocketForwarder(const std::string& listen_path, const std::string& target_path);
  /// Stops forwarding, closes every connection and removes the socket file.
  ~UnixSocketForwarder();
  UnixSocketForwarder(const UnixSocketForwarder&) = delete;
  UnixSocketForwarder& operator=(const UnixSocketForwarder&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace berth::e2e
