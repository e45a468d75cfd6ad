#include "berth/file/provider.hpp"

#include "berth/log/log.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/core.h>

namespace berth::file {

namespace {

// Every way an editor, `mv`, `cp` or a ConfigMap update can change what a directory holds.
constexpr std::uint32_t watch_mask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM |
                                     IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |
                                     IN_MOVE_SELF;

/// While the watched directory is gone, how often to look for it again.
constexpr std::chrono::milliseconds rewatch_interval{1000};

std::system_error errno_error(const char* what) {
  return std::system_error{errno, std::generic_category(), what};
}

}  // namespace

Provider::Provider(Options options, Callback callback)
    : options_(std::move(options)), callback_(std::move(callback)) {
  if (auto problem = validate(options_.source)) throw std::invalid_argument{*problem};
  if (!options_.source.directory.empty()) {
    watched_ = options_.source.directory;
  } else {
    watched_ = std::filesystem::path{options_.source.filename}.parent_path();
    if (watched_.empty()) watched_ = ".";
  }
}

Provider::~Provider() {
  stop();
  for (const int fd : {inotify_fd_, stop_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void Provider::start() {
  if (options_.source.watch) {
    // Watching starts before the first load, so that no change between the two is missed.
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) throw errno_error("inotify_init1");
    stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stop_fd_ < 0) throw errno_error("eventfd");
    add_watch();
  }
  reload();
  if (options_.source.watch) thread_ = std::thread{[this] { run(); }};
}

void Provider::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof one) < 0) {
    log::error("file", "cannot signal the watcher to stop: {}",
               std::generic_category().message(errno));
  }
  thread_.join();
}

bool Provider::add_watch() {
  watch_descriptor_ = ::inotify_add_watch(inotify_fd_, watched_.c_str(), watch_mask);
  return watch_descriptor_ >= 0;
}

void Provider::run() {
  using Clock = std::chrono::steady_clock;
  const auto longest_wait = options_.debounce * 10;
  bool pending = false;
  Clock::time_point first_change;
  Clock::time_point last_change;
  alignas(inotify_event) std::array<char, 8192> buffer{};

  for (;;) {
    int timeout = -1;
    if (pending) {
      const auto due = std::min(last_change + options_.debounce, first_change + longest_wait);
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(due - Clock::now());
      timeout = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    } else if (watch_descriptor_ < 0) {
      timeout = static_cast<int>(rewatch_interval.count());
    }
    std::array<pollfd, 2> fds{{{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}}};
    const int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno != EINTR) {
      log::error("file", "poll: {}; no longer watching {}", std::generic_category().message(errno),
                 watched_.string());
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;

    bool changed = false;
    if ((fds[0].revents & POLLIN) != 0) {
      for (;;) {
        const auto length = ::read(inotify_fd_, buffer.data(), buffer.size());
        if (length <= 0) break;
        for (std::size_t at = 0; at < static_cast<std::size_t>(length);) {
          inotify_event event{};
          std::copy_n(buffer.data() + at, sizeof event, reinterpret_cast<char*>(&event));
          // The directory itself went away (deleted or renamed): watch for it to come back.
          if ((event.mask & IN_IGNORED) != 0 && event.wd == watch_descriptor_) {
            watch_descriptor_ = -1;
          }
          changed = true;
          at += sizeof(inotify_event) + event.len;
        }
      }
    }
    if (watch_descriptor_ < 0 && add_watch()) changed = true;

    const auto now = Clock::now();
    if (changed) {
      if (!pending) first_change = now;
      last_change = now;
      pending = true;
    }
    if (pending && now >= std::min(last_change + options_.debounce, first_change + longest_wait)) {
      pending = false;
      reload();
    }
  }
}

void Provider::reload() {
  auto loaded = load(options_.source);
  FileUpdate update;
  if (auto* good = std::get_if<FileUpdate>(&loaded)) {
    last_good_ = *good;
    update = std::move(*good);
  } else {
    const auto& error = std::get<FileError>(loaded);
    if (last_good_) update = *last_good_;
    update.diagnostics.push_back({config::ResourceKind::provider,
                                  error.file,
                                  {},
                                  error.to_string(),
                                  config::Severity::error});
  }
  if (last_published_ && *last_published_ == update) return;

  for (const auto& diagnostic : update.diagnostics) {
    if (diagnostic.severity != config::Severity::error) continue;
    const bool known =
        last_published_ &&
        std::find(last_published_->diagnostics.begin(), last_published_->diagnostics.end(),
                  diagnostic) != last_published_->diagnostics.end();
    if (!known) log::error("file", "{}", diagnostic.message);
  }
  last_published_ = std::make_shared<const FileUpdate>(std::move(update));
  callback_(last_published_);
}

}  // namespace berth::file
