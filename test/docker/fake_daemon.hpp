#pragma once
// An in-process fake Docker daemon for tests: HTTP/1.1 on a Unix socket in a temporary directory,
// serving /_ping, /vX/version, /vX/containers/json, /vX/containers/{id}/json and a chunked
// /vX/events stream. Scriptable from the test thread; records every request.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::docker::test {

struct RecordedRequest {
  std::string method;
  std::string target;  ///< path and query, as sent
};

class FakeDaemon {
 public:
  FakeDaemon();
  ~FakeDaemon();
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  std::string socket_path() const;
  std::string endpoint() const;  ///< unix://<socket_path>

  /// The API versions the daemon accepts ("1.24", "1.47"); others get 400 too old / too new.
  void set_api_versions(std::string min, std::string max);
  /// Whether /_ping carries the Api-Version header (old daemons do not).
  void set_ping_header(bool present);
  /// Whether versioned paths outside [min, max] get 400 (a real daemon does; some proxies hide it).
  void set_version_check(bool enforce);
  /// Makes /_ping claim this version instead of the maximum (a daemon that lies, or a proxy).
  void set_ping_version(std::string version);

  /// Adds or replaces a container (an inspect document; its "Id" is the key).
  void put_container(nlohmann::json inspect);
  void remove_container(const std::string& id);
  void modify_container(const std::string& id, const std::function<void(nlohmann::json&)>& edit);
  /// Answers the inspect of container `id` only after `delay` (zero: at once again), as a daemon
  /// does for a stopping container; other connections are served meanwhile.
  void set_inspect_delay(const std::string& id, std::chrono::milliseconds delay);

  /// Sends an event to every open /events stream (and keeps it for `since` replays); fills in
  /// time/timeNano when absent.
  void push_event(nlohmann::json event);
  /// Ends every open /events response cleanly (final chunk) and closes its connection.
  void drop_event_streams();
  /// Like a daemon restart: every connection is closed and the event history is forgotten.
  void restart();
  /// Closes the listening socket (connections then fail) or opens it again.
  void set_listening(bool listening);

  /// Called on the daemon's thread after each /containers/json answer is prepared.
  void on_list(std::function<void()> hook);

  std::size_t open_event_streams() const;
  /// Waits until at least `count` event streams are open.
  bool wait_for_event_streams(std::size_t count, std::chrono::milliseconds timeout) const;

  std::vector<RecordedRequest> requests() const;
  void clear_requests();

  /// A typical inspect document of a running container on network "web" with port 80 exposed.
  static nlohmann::json make_container(const std::string& id, const std::string& name,
                                       std::map<std::string, std::string> labels = {},
                                       const std::string& ip = "172.18.0.2");
  static nlohmann::json container_event(const std::string& action, const std::string& id,
                                        std::map<std::string, std::string> attributes = {});
  static nlohmann::json network_event(const std::string& action, const std::string& container_id,
                                      const std::string& network = "web");

 private:
  friend struct Session;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// A 64-hex-digit container ID derived from `seed`.
std::string container_id(int seed);

}  // namespace berth::docker::test
