#pragma once
// The file provider: loads Traefik dynamic-configuration files and, when watching, reloads them on
// change (inotify on the directory, since editors replace files by rename; debounced). Linux only.
//
// A reload whose files fail to parse keeps the last good configuration and adds the error as a
// provider diagnostic (also logged, one line to stderr). A reload that yields the same update as
// the last one publishes nothing.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "berth/config/static.hpp"
#include "berth/file/document.hpp"

namespace berth::file {

class Provider {
 public:
  using Callback = std::function<void(std::shared_ptr<const FileUpdate>)>;

  struct Options {
    config::FileProvider source;
    /// A reload happens once changes have been quiet this long (and at the latest 10 times this
    /// long after the first change of a continuous stream of changes).
    std::chrono::milliseconds debounce{100};
  };

  /// Throws std::invalid_argument when the options name no file or directory, or both (start-up).
  Provider(Options options, Callback callback);
  ~Provider();
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  /// Loads the files and delivers the first update before returning (on the calling thread);
  /// when watching, later updates come from the provider's own thread, so the callback must not
  /// call stop(). A directory that does not exist yet is looked for every second. Call once.
  /// Throws std::system_error when inotify cannot be set up (start-up).
  void start();
  /// Stops watching and joins the thread; no callback runs after it returns. Idempotent.
  void stop();

 private:
  void run();
  void reload();
  bool add_watch();

  Options options_;
  Callback callback_;
  std::filesystem::path watched_;
  int inotify_fd_ = -1;
  int watch_descriptor_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
  std::optional<FileUpdate> last_good_;
  std::shared_ptr<const FileUpdate> last_published_;
};

}  // namespace berth::file
