// The provider's worker thread owns the container map and does every request but the event
// stream, which blocks on a thread of its own and only queues what it receives.

#include "berth/docker/provider.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "berth/log/log.hpp"

namespace berth::docker {

namespace {

using Clock = std::chrono::steady_clock;

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// The first run of exactly 64 hex digits in `text` that follows `after`.
std::optional<std::string> find_id(std::string_view text, std::string_view after) {
  for (auto pos = text.find(after); pos != std::string_view::npos;
       pos = text.find(after, pos + 1)) {
    const auto start = pos + after.size();
    if (start + 64 > text.size()) continue;
    const auto candidate = text.substr(start, 64);
    const bool bounded = start + 64 == text.size() || !is_hex(text.substr(start + 64, 1));
    if (is_hex(candidate) && bounded) return std::string(candidate);
  }
  return std::nullopt;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool same_network(const labels::ContainerNetwork& a, const labels::ContainerNetwork& b) {
  return a.ipv4 == b.ipv4 && a.global_ipv6 == b.global_ipv6;
}

bool same_container(const labels::ContainerInfo& a, const labels::ContainerInfo& b) {
  return a.id == b.id && a.name == b.name && a.labels == b.labels && a.state == b.state &&
         a.health == b.health && a.network_mode == b.network_mode &&
         a.stop_signal == b.stop_signal && a.ports == b.ports && a.draining == b.draining &&
         std::equal(a.networks.begin(), a.networks.end(), b.networks.begin(), b.networks.end(),
                    [](const auto& x, const auto& y) {
                      return x.first == y.first && same_network(x.second, y.second);
                    }) &&
         std::equal(a.network_source.begin(), a.network_source.end(), b.network_source.begin(),
                    b.network_source.end(), same_container);
}

bool same_update(const ProviderUpdate& a, const labels::Result& result,
                 const std::vector<labels::ContainerInfo>& containers) {
  return a.result.configuration == result.configuration &&
         a.result.diagnostics == result.diagnostics && a.result.containers == result.containers &&
         std::equal(a.containers.begin(), a.containers.end(), containers.begin(), containers.end(),
                    same_container);
}

template <class Map>
void diff_keys(const Map* before, const Map& after, std::vector<std::string>& added,
               std::vector<std::string>& removed, std::vector<std::string>& changed) {
  for (const auto& [key, value] : after) {
    if (before == nullptr) {
      added.push_back(key);
      continue;
    }
    const auto it = before->find(key);
    if (it == before->end()) {
      added.push_back(key);
    } else if (!(it->second == value)) {
      changed.push_back(key);
    }
  }
  if (before == nullptr) return;
  for (const auto& [key, value] : *before) {
    if (!after.contains(key)) removed.push_back(key);
  }
}

/// "routers +[a] -[b] ~[c]" for the parts that are not empty.
void describe(std::string& line, std::string_view what, const std::vector<std::string>& added,
              const std::vector<std::string>& removed, const std::vector<std::string>& changed) {
  if (added.empty() && removed.empty() && changed.empty()) return;
  line += fmt::format("{}{}", line.empty() ? "" : "; ", what);
  if (!added.empty()) line += fmt::format(" +[{}]", fmt::join(added, ", "));
  if (!removed.empty()) line += fmt::format(" -[{}]", fmt::join(removed, ", "));
  if (!changed.empty()) line += fmt::format(" ~[{}]", fmt::join(changed, ", "));
}

/// Actions that may change what a container contributes; the rest (exec_*, attach, ...) never do.
bool relevant_action(std::string_view action) {
  static const std::set<std::string_view> actions{
      "create", "start",   "restart", "die",     "stop",       "kill", "destroy",
      "pause",  "unpause", "rename",  "connect", "disconnect", "oom",  "update"};
  return actions.contains(action) || action.starts_with("health_status");
}

/// Whether a kill event stops the container: SIGKILL or its stop signal do; others (SIGHUP for a
/// reload, ...) leave it running. A kill that names no signal berth can read stops it, as berth
/// cannot tell otherwise and a stopping container must get no requests.
bool kill_stops(const Event& event, const labels::ContainerInfo& info) {
  const auto it = event.attributes.find("signal");
  if (it == event.attributes.end()) return true;
  const auto signal = parse_signal(it->second);
  return !signal || *signal == 9 || info.stop_signal == 0 || *signal == info.stop_signal;
}

}  // namespace

std::optional<std::string> container_id_from_cgroup(std::string_view cgroup) {
  // cgroup v1 "…:/docker/<id>", systemd "docker-<id>.scope", cgroup v2 "0::/…/docker-<id>.scope".
  for (const std::string_view marker : {"/docker/", "docker-", "/libpod-", "/crio-"}) {
    if (auto id = find_id(cgroup, marker)) return id;
  }
  return std::nullopt;
}

std::optional<std::string> container_id_from_mountinfo(std::string_view mountinfo) {
  // Docker bind-mounts /var/lib/docker/containers/<id>/{hostname,hosts,resolv.conf}.
  return find_id(mountinfo, "/containers/");
}

bool looks_like_container_id(std::string_view hostname) {
  return (hostname.size() == 12 || hostname.size() == 64) && is_hex(hostname);
}

struct Provider::Impl {
  struct Entry {
    labels::ContainerInfo info;
    bool start_seen = false;  ///< a start/restart event arrived since draining began
  };

  DockerApi& api;
  ProviderSettings settings;
  PublishCallback publish;

  // Shared with the stream thread and stop(), under `mutex`.
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Event> events;
  bool stream_ended = false;
  std::string stream_error;
  bool stopping = false;

  std::thread worker;
  std::thread stream_thread;

  // The worker thread's own state.
  std::map<std::string, Entry> containers;
  std::shared_ptr<const ProviderUpdate> last;
  std::set<std::string> routed;
  labels::ProviderOptions options;
  std::vector<std::string> own_candidates;
  std::string own_id;
  bool stream_running = false;
  Clock::time_point stream_started;
  bool need_resync = true;
  bool connected_once = false;
  Clock::time_point retry_at;
  std::chrono::milliseconds backoff;
  Clock::time_point next_resync;
  Clock::time_point last_rebuild;
  std::optional<Clock::time_point> rebuild_at;
  bool dirty = false;
  /// When the first event not yet reflected in a published configuration was taken.
  std::optional<Clock::time_point> unpublished_event;

  Impl(DockerApi& a, ProviderSettings s, PublishCallback p)
      : api(a),
        settings(std::move(s)),
        publish(std::move(p)),
        options(settings.options),
        backoff(settings.backoff_initial) {
    if (!settings.build) settings.build = &labels::build_configuration;
    if (!settings.counters) settings.counters = std::make_shared<ProviderCounters>();
  }

  void run() {
    if (settings.detect_own_container) find_own_candidates();
    std::unique_lock lock(mutex);
    while (!stopping) {
      const auto now = Clock::now();
      if (need_resync && now >= retry_at) {
        lock.unlock();
        resync();
        lock.lock();
        continue;
      }
      if (!events.empty()) {
        std::vector<Event> batch(std::make_move_iterator(events.begin()),
                                 std::make_move_iterator(events.end()));
        events.clear();
        lock.unlock();
        settings.counters->events.fetch_add(batch.size(), std::memory_order_relaxed);
        if (!unpublished_event) unpublished_event = now;
        handle_events(batch);
        lock.lock();
        continue;
      }
      if (stream_ended) {
        const std::string error = std::exchange(stream_error, {});
        stream_ended = false;
        lock.unlock();
        on_stream_end(error);
        lock.lock();
        continue;
      }
      if (rebuild_at && now >= *rebuild_at) {
        lock.unlock();
        rebuild();
        lock.lock();
        continue;
      }
      if (!need_resync && now >= next_resync) {
        need_resync = true;
        retry_at = now;
        continue;
      }
      auto until = need_resync ? retry_at : next_resync;
      if (rebuild_at) until = std::min(until, *rebuild_at);
      wake.wait_until(lock, until);
    }
  }

  void find_own_candidates() {
    if (auto id = container_id_from_cgroup(read_file("/proc/self/cgroup"))) {
      own_candidates.push_back(*id);
    }
    if (auto id = container_id_from_mountinfo(read_file("/proc/self/mountinfo"))) {
      own_candidates.push_back(*id);
    }
    char hostname[256] = {};
    if (gethostname(hostname, sizeof hostname - 1) == 0 && looks_like_container_id(hostname)) {
      own_candidates.emplace_back(hostname);
    }
  }

  /// Best effort: berth's own networks, so containers on several networks are reached over one
  /// berth shares. Silent when berth is not in a container.
  void update_own_networks() {
    for (const auto& candidate : own_candidates) {
      auto inspected = api.inspect_container(candidate);
      auto* info = std::get_if<labels::ContainerInfo>(&inspected);
      if (info == nullptr) continue;
      std::vector<std::string> networks;
      for (const auto& [name, network] : info->networks) networks.push_back(name);
      if (own_id != info->id || networks != options.own_networks) {
        log::info("docker", "berth runs in container {} on networks [{}]", info->name,
                  fmt::join(networks, ", "));
      }
      own_id = info->id;
      options.own_networks = std::move(networks);
      return;
    }
  }

  void schedule_retry() {
    need_resync = true;
    retry_at = Clock::now() + backoff;
    backoff = std::min(backoff * 2, settings.backoff_max);
  }

  /// inspect, plus the container whose network stack a `container:<x>` one shares (recursively).
  Result<labels::ContainerInfo> inspect(const std::string& id, int depth = 0) {
    auto inspected = api.inspect_container(id);
    auto* info = std::get_if<labels::ContainerInfo>(&inspected);
    if (info != nullptr && info->network_mode.starts_with("container:") && depth < 4) {
      auto source = inspect(info->network_mode.substr(10), depth + 1);
      if (auto* found = std::get_if<labels::ContainerInfo>(&source)) {
        info->network_source.push_back(std::move(*found));
      }
    }
    return inspected;
  }

  void resync() {
    auto connected = api.connect();
    if (auto* error = std::get_if<Error>(&connected)) {
      if (error->kind != Error::Kind::interrupted) {
        log::warn("docker", "{}; keeping the last configuration, retrying in {} ms", error->message,
                  backoff.count());
        schedule_retry();
      }
      return;
    }
    const DaemonInfo& daemon = std::get<DaemonInfo>(connected);
    // Events since just before the list are replayed, so nothing between list and subscribe is
    // lost; the second of margin covers the Date header's truncation.
    const std::int64_t local_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
    const std::int64_t since =
        (daemon.daemon_time_nano != 0 ? daemon.daemon_time_nano : local_now) - 1'000'000'000;
    update_own_networks();

    auto listed = api.list_containers();
    if (auto* error = std::get_if<Error>(&listed)) {
      if (error->kind != Error::Kind::interrupted) {
        log::warn("docker", "{}; keeping the last configuration", error->message);
        schedule_retry();
      }
      return;
    }
    std::map<std::string, Entry> fresh;
    for (const auto& id : std::get<std::vector<std::string>>(listed)) {
      auto inspected = inspect(id);
      if (auto* error = std::get_if<Error>(&inspected)) {
        if (error->kind == Error::Kind::not_found) continue;  // gone since the list
        if (error->kind != Error::Kind::interrupted) {
          log::warn("docker", "{}; keeping the last configuration", error->message);
          schedule_retry();
        }
        return;
      }
      Entry entry{std::move(std::get<labels::ContainerInfo>(inspected)), false};
      if (const auto old = containers.find(entry.info.id); old != containers.end()) {
        entry.info.draining = old->second.info.draining;
        entry.start_seen = old->second.start_seen;
        settle_draining(entry);
      }
      fresh.emplace(entry.info.id, std::move(entry));
    }
    if (!connected_once || !stream_running) {
      log::info("docker", "connected to Docker {} (API {}), {} containers", daemon.daemon_version,
                daemon.api_version.to_string(), fresh.size());
    }
    connected_once = true;
    containers = std::move(fresh);
    need_resync = false;
    next_resync = Clock::now() + settings.resync_interval;
    changed(false);
    if (!stream_running) start_stream(since);
  }

  void start_stream(std::int64_t since) {
    if (stream_thread.joinable()) stream_thread.join();
    stream_running = true;
    stream_started = Clock::now();
    stream_thread = std::thread([this, since] {
      auto result = api.stream_events(
          since,
          [this](const Event& event) {
            const std::lock_guard lock(mutex);
            events.push_back(event);
            wake.notify_all();
          },
          [] {});
      const std::lock_guard lock(mutex);
      stream_ended = true;
      if (auto* error = std::get_if<Error>(&result)) {
        stream_error = error->kind == Error::Kind::interrupted ? "" : error->message;
      } else {
        stream_error = "the daemon ended the event stream";
      }
      wake.notify_all();
    });
  }

  void on_stream_end(const std::string& error) {
    if (stream_thread.joinable()) stream_thread.join();
    stream_running = false;
    // A stream that lived long was healthy: start the backoff over.
    if (Clock::now() - stream_started >= settings.backoff_max) backoff = settings.backoff_initial;
    if (error.empty()) return;  // interrupted: stopping
    log::warn("docker", "{}; keeping the last configuration, resyncing in {} ms", error,
              backoff.count());
    schedule_retry();
  }

  /// Draining ends once the container runs again after a start.
  static void settle_draining(Entry& entry) {
    if (entry.info.draining && entry.start_seen && entry.info.state == "running") {
      entry.info.draining = false;
      entry.start_seen = false;
    }
  }

  void reinspect(const std::string& id) {
    auto inspected = inspect(id);
    if (auto* error = std::get_if<Error>(&inspected)) {
      if (error->kind == Error::Kind::not_found) {
        containers.erase(id);
      } else if (error->kind != Error::Kind::interrupted) {
        // The state may now be stale: repair it with a full resync.
        log::warn("docker", "{}; resyncing", error->message);
        schedule_retry();
      }
      return;
    }
    auto& info = std::get<labels::ContainerInfo>(inspected);
    auto& entry = containers[info.id];
    const bool draining = entry.info.draining;
    entry.info = std::move(info);
    entry.info.draining = draining;
    settle_draining(entry);
  }

  void handle_events(const std::vector<Event>& batch) {
    bool draining = false;  // a container began draining
    bool stopped = false;   // a container berth knew running died
    bool urgent = false;
    std::vector<std::string> ids;   // to re-inspect
    std::vector<std::string> died;  // whose dependents are re-inspected
    for (const auto& event : batch) {
      const std::string id = event.container_id();
      if (id.empty() || !relevant_action(event.action)) continue;
      const bool container_event = event.type == "container";
      const bool kill_or_stop =
          container_event && (event.action == "kill" || event.action == "stop");
      const bool die = container_event && event.action == "die";
      // The daemon answers the inspect of a stopping container only once it has stopped and been
      // cleaned up (network and mounts released: hundreds of ms when several stop at once), and
      // events taken meanwhile, such as the next container's kill, wait behind it. A kill, stop
      // or die brings none: each says all routing needs (draining, or no longer running).
      if (!kill_or_stop && !die && std::find(ids.begin(), ids.end(), id) == ids.end()) {
        ids.push_back(id);
      }
      const auto it = containers.find(id);
      if (it == containers.end()) continue;
      Entry& entry = it->second;
      if (!container_event) continue;
      if (die) {
        if (std::find(died.begin(), died.end(), id) == died.end()) died.push_back(id);
        if (entry.info.state == "running") {
          entry.info.state = "exited";
          stopped = true;
          // It no longer listens: publish at once if it was still routed (died without a kill).
          if (routed.contains(id) || dirty) urgent = true;
        }
      } else if (kill_or_stop) {
        const bool stops = event.action == "stop" || kill_stops(event, entry.info);
        if (stops && !entry.info.draining && entry.info.state == "running") {
          entry.info.draining = true;
          entry.start_seen = false;
          draining = true;
          // No request may go to a container berth has seen stopping: publish before any inspect
          // (also when a pending rebuild may have routed it meanwhile).
          if (routed.contains(id) || dirty) urgent = true;
        }
      } else if (event.action == "start" || event.action == "restart") {
        entry.start_seen = true;
      }
    }
    if (urgent) changed(true);

    // Containers sharing the network stack of a re-inspected or died one follow it.
    for (const auto& id : ids) reinspect(id);
    std::vector<std::string> sources = ids;
    for (const auto& id : died) {
      if (std::find(sources.begin(), sources.end(), id) == sources.end()) sources.push_back(id);
    }
    std::vector<std::string> dependents;
    for (const auto& id : sources) {
      const auto it = containers.find(id);
      for (const auto& [other_id, other] : containers) {
        const auto& mode = other.info.network_mode;
        if (!mode.starts_with("container:") || other_id == id) continue;
        const auto target = std::string_view(mode).substr(10);
        const bool follows =
            target == id || (it != containers.end() && target == it->second.info.name);
        if (follows && std::find(ids.begin(), ids.end(), other_id) == ids.end() &&
            std::find(dependents.begin(), dependents.end(), other_id) == dependents.end()) {
          dependents.push_back(other_id);
        }
      }
    }
    for (const auto& id : dependents) reinspect(id);
    // A container no route used drains without hurry, but the published state still shows it.
    if (!ids.empty() || ((draining || stopped) && !urgent)) changed(false);
  }

  /// Leading-edge throttle: the first change is built at once, later ones within the window are
  /// merged into one rebuild at its end.
  void changed(bool urgent) {
    dirty = true;
    const auto now = Clock::now();
    if (urgent || now >= last_rebuild + settings.throttle) {
      rebuild();
    } else if (!rebuild_at) {
      rebuild_at = last_rebuild + settings.throttle;
    }
  }

  void rebuild() {
    rebuild_at.reset();
    if (!dirty) return;
    dirty = false;
    last_rebuild = Clock::now();
    std::vector<labels::ContainerInfo> list;
    list.reserve(containers.size());
    for (const auto& [id, entry] : containers) list.push_back(entry.info);
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return std::tie(a.name, a.id) < std::tie(b.name, b.id);
    });
    labels::Result result = settings.build(list, options);
    const auto first_event = std::exchange(unpublished_event, std::nullopt);
    if (last && same_update(*last, result, list)) return;

    auto update = std::make_shared<ProviderUpdate>();
    update->result = std::move(result);
    update->containers = std::move(list);
    update->time = std::chrono::system_clock::now();
    log_change(*update);
    routed.clear();
    for (const auto& decision : update->result.containers) {
      if (decision.routed) routed.insert(decision.id);
    }
    last = update;
    if (first_event) {
      settings.counters->last_event_to_publish_ns.store(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - *first_event).count(),
          std::memory_order_relaxed);
    }
    publish(std::move(update));
  }

  void log_change(const ProviderUpdate& update) {
    std::string line;
    std::vector<std::string> added, removed, changed_keys;
    const auto* before = last ? &last->result.configuration.http : nullptr;
    const auto& after = update.result.configuration.http;
    diff_keys(before ? &before->routers : nullptr, after.routers, added, removed, changed_keys);
    describe(line, "routers", added, removed, changed_keys);
    added.clear(), removed.clear(), changed_keys.clear();
    diff_keys(before ? &before->services : nullptr, after.services, added, removed, changed_keys);
    describe(line, "services", added, removed, changed_keys);
    added.clear(), removed.clear(), changed_keys.clear();
    diff_keys(before ? &before->middlewares : nullptr, after.middlewares, added, removed,
              changed_keys);
    describe(line, "middlewares", added, removed, changed_keys);

    std::map<std::string, const labels::ContainerInfo*> was, now;
    if (last) {
      for (const auto& c : last->containers) was[c.id] = &c;
    }
    for (const auto& c : update.containers) now[c.id] = &c;
    added.clear(), removed.clear(), changed_keys.clear();
    const auto status = [](const labels::ContainerInfo& c) {
      std::string text = c.state;
      if (!c.health.empty()) text += "/" + c.health;
      if (c.draining) text += "/draining";
      return text;
    };
    for (const auto& [id, c] : now) {
      const auto it = was.find(id);
      if (it == was.end()) {
        added.push_back(fmt::format("{} ({})", c->name, status(*c)));
      } else if (status(*it->second) != status(*c) || it->second->name != c->name) {
        changed_keys.push_back(
            fmt::format("{} ({} -> {})", c->name, status(*it->second), status(*c)));
      }
    }
    for (const auto& [id, c] : was) {
      if (!now.contains(id)) removed.push_back(c->name);
    }
    describe(line, "containers", added, removed, changed_keys);
    if (line.empty()) line = "container details changed";
    log::info("docker", "configuration updated: {}", line);
  }
};

Provider::Provider(DockerApi& api, ProviderSettings settings, PublishCallback publish)
    : impl_(std::make_unique<Impl>(api, std::move(settings), std::move(publish))) {}

Provider::~Provider() {
  stop();
}

void Provider::start() {
  if (impl_->worker.joinable()) return;
  impl_->worker = std::thread([this] { impl_->run(); });
}

void Provider::stop() {
  {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->api.shutdown();
  impl_->wake.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  if (impl_->stream_thread.joinable()) impl_->stream_thread.join();
}

}  // namespace berth::docker
