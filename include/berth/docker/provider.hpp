#pragma once
// Keeps every container by ID from the Docker daemon and publishes a configuration built from their
// labels whenever it changes: full sync on start, then the event stream (re-inspecting only the
// container an event names), coalesced bursts, draining on kill/stop, reconnect with backoff and a
// periodic full resync.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "berth/docker/api.hpp"
#include "berth/labels/container.hpp"
#include "berth/labels/labels.hpp"

namespace berth::docker {

struct ProviderUpdate {
  labels::Result result;
  std::vector<labels::ContainerInfo> containers;  ///< sorted by name, then ID
  std::chrono::system_clock::time_point time;
};

using PublishCallback = std::function<void(std::shared_ptr<const ProviderUpdate>)>;
using BuildFunction = std::function<labels::Result(std::span<const labels::ContainerInfo>,
                                                   const labels::ProviderOptions&)>;

/// What the provider has done so far, for berth's own metrics. Shared, so that a reader on another
/// thread (the API's /metrics) never depends on the provider's lifetime.
struct ProviderCounters {
  std::atomic<std::uint64_t> events{0};  ///< Docker events received
  /// From the first event of a change to the configuration it produced being handed over for
  /// publishing; -1 until an event has changed the configuration.
  std::atomic<std::int64_t> last_event_to_publish_ns{-1};
};

struct ProviderSettings {
  labels::ProviderOptions options;
  /// Changes after the first one within this window are merged into one rebuild.
  std::chrono::milliseconds throttle{50};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  /// A full list + inspect this often, to repair any gap in the event stream.
  std::chrono::milliseconds resync_interval{std::chrono::minutes(5)};
  /// Look for berth's own container (cgroup, hostname) and fill options.own_networks.
  bool detect_own_container = true;
  /// labels::build_configuration unless replaced (tests).
  BuildFunction build;
  /// Where the provider counts; one of its own when null.
  std::shared_ptr<ProviderCounters> counters;
};

class Provider {
 public:
  /// `api` must outlive the provider. `publish` is called on the provider's thread.
  Provider(DockerApi& api, ProviderSettings settings, PublishCallback publish);
  ~Provider();  ///< stops
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  /// Starts the provider's threads; the first configuration is published after the first sync.
  void start();
  /// Ends the event stream and joins the threads; returns promptly even on an idle stream.
  /// Calls api.shutdown(), so the api cannot be reused afterwards.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Berth's own container ID from /proc/self/cgroup content (cgroup v1 or v2 with the host's
/// namespace); std::nullopt when none is found.
std::optional<std::string> container_id_from_cgroup(std::string_view cgroup);
/// Berth's own container ID from /proc/self/mountinfo content (cgroup v2 with a private namespace:
/// /var/lib/docker/containers/<id>/hostname is bind-mounted).
std::optional<std::string> container_id_from_mountinfo(std::string_view mountinfo);
/// A hostname that looks like a short or full container ID (12 or 64 hex digits).
bool looks_like_container_id(std::string_view hostname);

}  // namespace berth::docker
