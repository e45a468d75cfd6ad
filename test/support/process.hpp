#pragma once
// A child process for tests: started with arguments (and extra environment), its stdout read line
// by line with a timeout, signalled, waited for. The destructor kills and reaps it, so a failing
// test never leaves processes behind.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/result.hpp"

namespace berth::test {

class ChildProcess {
 public:
  using Environment = std::vector<std::pair<std::string, std::string>>;

  enum class Stderr { inherit, capture };

  /// Starts `path` with `args` (not including argv[0]); `env` adds to or overrides the inherited
  /// environment. stdout is captured; stderr is inherited, or captured with stdout (for programs
  /// that log there).
  static auto start(const std::string& path, const std::vector<std::string>& args,
                    const Environment& env = {}, Stderr stderr_mode = Stderr::inherit)
      -> Result<ChildProcess>;

  ChildProcess(ChildProcess&&) noexcept;
  auto operator=(ChildProcess&&) noexcept -> ChildProcess&;
  ChildProcess(const ChildProcess&) = delete;
  auto operator=(const ChildProcess&) -> ChildProcess& = delete;
  ~ChildProcess();

  auto pid() const -> pid_t;

  /// The next line of stdout (without its newline); fails on timeout or end of output.
  auto read_line(std::chrono::milliseconds timeout) -> Result<std::string>;

  /// Skips lines until one contains `text` and returns that whole line.
  auto read_until_contains(std::string_view text, std::chrono::milliseconds timeout)
      -> Result<std::string>;

  /// Skips lines until one starts with `prefix` and returns the rest of that line.
  auto read_until(std::string_view prefix, std::chrono::milliseconds timeout)
      -> Result<std::string>;

  /// Everything read from stdout so far, for diagnostics.
  auto output() const -> std::string;

  auto signal(int signal_number) -> Status;

  /// Waits for the exit: the exit code, or 128 + signal number when a signal ended it.
  auto wait(std::chrono::milliseconds timeout) -> Result<int>;

 private:
  struct State;
  explicit ChildProcess(std::unique_ptr<State> state);
  auto read_until_line(std::string_view what, std::chrono::milliseconds timeout,
                       const std::function<bool(const std::string&)>& matches)
      -> Result<std::string>;

  std::unique_ptr<State> state_;
};

}  // namespace berth::test
