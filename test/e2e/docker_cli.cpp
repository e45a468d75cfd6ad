#include "docker_cli.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <stdexcept>

extern char** environ;

namespace berth::e2e {

test::Result<std::string> docker(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) return test::Result<std::string>::failure("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);

  std::vector<std::string> argv_strings{"docker"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int error = ::posix_spawnp(&pid, "docker", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (error != 0) {
    ::close(fds[0]);
    return test::Result<std::string>::failure("cannot run docker");
  }
  std::string output;
  std::array<char, 4096> buffer{};
  ssize_t got = 0;
  while ((got = ::read(fds[0], buffer.data(), buffer.size())) > 0) {
    output.append(buffer.data(), static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command = "docker";
    for (const auto& arg : args) command += " " + arg;
    return test::Result<std::string>::failure(command + ": " + output);
  }
  return output;
}

namespace {

std::string new_run_id() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

Sandbox::Sandbox()
    : run_id_(new_run_id()), label_("org.berth.test=" + run_id_), network_("berth-e2e-" + run_id_) {
  auto created = docker({"network", "create", "--label", label_, network_});
  if (!created) throw std::runtime_error(created.error());
}

Sandbox::~Sandbox() {
  auto ids = docker({"ps", "-aq", "--filter", "label=" + label_});
  if (ids && !ids->empty()) {
    std::vector<std::string> remove{"rm", "-f", "-v"};
    std::size_t start = 0;
    while (start < ids->size()) {
      const std::size_t end = ids->find('\n', start);
      remove.push_back(ids->substr(start, end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    docker(remove);
  }
  docker({"network", "rm", network_});
}

std::string Sandbox::start_berth(const std::vector<std::string>& flags,
                                 const std::vector<std::string>& docker_args) {
  const std::string name = "berth-e2e-" + run_id_ + "-berth";
  std::vector<std::string> args = {"run",       "-d",
                                   "--name",    name,
                                   "--label",   label_,
                                   "--network", network_,
                                   "-v",        "/var/run/docker.sock:/var/run/docker.sock:ro",
                                   "-p",        "127.0.0.1::80",
                                   "-p",        "127.0.0.1::8080"};
  args.insert(args.end(), docker_args.begin(), docker_args.end());
  args.push_back("berth:e2e");
  args.insert(args.end(), flags.begin(), flags.end());
  auto started = docker(args);
  if (!started) throw std::runtime_error(started.error());
  return name;
}

std::string Sandbox::start_app(const std::string& name, const std::vector<std::string>& labels,
                               const std::vector<std::string>& extra_args) {
  const std::string full_name = "berth-e2e-" + run_id_ + "-" + name;
  std::vector<std::string> args = {"run",     "-d",   "--name",    full_name,
                                   "--label", label_, "--network", network_};
  for (const auto& label : labels) {
    args.push_back("--label");
    args.push_back(label);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.push_back("berth-whoami:e2e");
  args.push_back("--name");
  args.push_back(name);
  auto started = docker(args);
  if (!started) throw std::runtime_error(started.error());
  return full_name;
}

std::uint16_t Sandbox::published_port(const std::string& container, int container_port) {
  auto mapping = docker({"port", container, std::to_string(container_port) + "/tcp"});
  if (!mapping) throw std::runtime_error(mapping.error());
  // "127.0.0.1:49153" (possibly several lines); the first one is on 127.0.0.1 by construction.
  const std::string first = mapping->substr(0, mapping->find('\n'));
  return static_cast<std::uint16_t>(std::stoi(first.substr(first.rfind(':') + 1)));
}

}  // namespace berth::e2e
