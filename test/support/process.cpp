#include "support/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in any header

namespace berth::test {

struct ChildProcess::State {
  pid_t pid = -1;
  std::optional<int> exit_code;
  int stdout_fd = -1;
  // A reader thread drains stdout, so a chatty child never blocks on a full pipe.
  std::thread reader;
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> lines;
  std::string partial;
  std::string all;
  bool eof = false;

  void read_all() {
    char buffer[4096];
    for (;;) {
      auto n = ::read(stdout_fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock{mutex};
      if (n <= 0) {
        if (!partial.empty()) lines.push_back(std::move(partial));
        eof = true;
        changed.notify_all();
        return;
      }
      all.append(buffer, static_cast<std::size_t>(n));
      partial.append(buffer, static_cast<std::size_t>(n));
      for (auto newline = partial.find('\n'); newline != std::string::npos;
           newline = partial.find('\n')) {
        lines.push_back(partial.substr(0, newline));
        partial.erase(0, newline + 1);
      }
      changed.notify_all();
    }
  }

  auto reap(bool block) -> bool {
    if (exit_code) return true;
    int status = 0;
    auto result = ::waitpid(pid, &status, block ? 0 : WNOHANG);
    if (result != pid) return false;
    exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    return true;
  }

  ~State() {
    if (pid > 0 && !reap(false)) {
      ::kill(pid, SIGKILL);
      reap(true);
    }
    if (reader.joinable()) reader.join();
    if (stdout_fd >= 0) ::close(stdout_fd);
  }
};

namespace {

auto errno_text(const char* what, int error) -> std::string {
  return std::string{what} + ": " + std::strerror(error);
}

auto build_environment(const ChildProcess::Environment& extra) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (char** it = environ; *it != nullptr; ++it) {
    std::string_view entry{*it};
    auto name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [key, value] : extra) overridden = overridden || key == name;
    if (!overridden) out.emplace_back(entry);
  }
  for (const auto& [key, value] : extra) out.push_back(key + "=" + value);
  return out;
}

auto pointers(std::vector<std::string>& strings) -> std::vector<char*> {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

auto ChildProcess::start(const std::string& path, const std::vector<std::string>& args,
                         const Environment& env, Stderr stderr_mode) -> Result<ChildProcess> {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Result<ChildProcess>::failure(errno_text("pipe", errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  if (stderr_mode == Stderr::capture) {
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  }

  std::vector<std::string> argv_strings{path};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto env_strings = build_environment(env);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);

  pid_t pid = -1;
  auto error = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (error != 0) {
    ::close(fds[0]);
    return Result<ChildProcess>::failure(errno_text(("spawn " + path).c_str(), error));
  }

  auto state = std::make_unique<State>();
  state->pid = pid;
  state->stdout_fd = fds[0];
  state->reader = std::thread{[raw = state.get()] { raw->read_all(); }};
  return ChildProcess{std::move(state)};
}

ChildProcess::ChildProcess(std::unique_ptr<State> state) : state_(std::move(state)) {}
ChildProcess::ChildProcess(ChildProcess&&) noexcept = default;
auto ChildProcess::operator=(ChildProcess&&) noexcept -> ChildProcess& = default;
ChildProcess::~ChildProcess() = default;

auto ChildProcess::pid() const -> pid_t {
  return state_->pid;
}

auto ChildProcess::read_line(std::chrono::milliseconds timeout) -> Result<std::string> {
  std::unique_lock lock{state_->mutex};
  if (!state_->changed.wait_for(lock, timeout,
                                [&] { return !state_->lines.empty() || state_->eof; })) {
    return Result<std::string>::failure("no line on stdout within " +
                                        std::to_string(timeout.count()) + " ms");
  }
  if (state_->lines.empty()) return Result<std::string>::failure("stdout closed");
  auto line = std::move(state_->lines.front());
  state_->lines.pop_front();
  return line;
}

auto ChildProcess::read_until_line(std::string_view what, std::chrono::milliseconds timeout,
                                   const std::function<bool(const std::string&)>& matches)
    -> Result<std::string> {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto line = read_line(std::max(left, std::chrono::milliseconds{0}));
    if (!line) {
      return Result<std::string>::failure("waiting for '" + std::string{what} +
                                          "': " + line.error());
    }
    if (matches(*line)) return *line;
  }
}

auto ChildProcess::read_until(std::string_view prefix, std::chrono::milliseconds timeout)
    -> Result<std::string> {
  auto line = read_until_line(
      prefix, timeout, [&](const std::string& candidate) { return candidate.starts_with(prefix); });
  if (!line) return line;
  return line->substr(prefix.size());
}

auto ChildProcess::read_until_contains(std::string_view text, std::chrono::milliseconds timeout)
    -> Result<std::string> {
  return read_until_line(text, timeout, [&](const std::string& candidate) {
    return candidate.find(text) != std::string::npos;
  });
}

auto ChildProcess::output() const -> std::string {
  std::lock_guard lock{state_->mutex};
  return state_->all;
}

auto ChildProcess::signal(int signal_number) -> Status {
  if (state_->exit_code) return Status::failure("process already exited");
  if (::kill(state_->pid, signal_number) != 0) return Status::failure(errno_text("kill", errno));
  return std::monostate{};
}

auto ChildProcess::wait(std::chrono::milliseconds timeout) -> Result<int> {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!state_->reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Result<int>::failure("still running after " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return *state_->exit_code;
}

}  // namespace berth::test
