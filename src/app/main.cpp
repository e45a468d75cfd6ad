// berth: argument dispatch only; the work happens in run().

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "berth/api/server.hpp"
#include "berth/app/version.hpp"
#include "berth/config/static.hpp"
#include "run.hpp"

extern char** environ;

namespace {

constexpr std::string_view usage =
    "Usage: berth [--flag=value ...]   run with the given static configuration\n"
    "       berth healthcheck [--flag=value ...]\n"
    "                                   exit 0 when berth's /ping answers 200 (Docker "
    "HEALTHCHECK)\n"
    "       berth version               print the version (also --version)\n"
    "       berth --help                print this help (also -h, help)\n"
    "\n"
    "Flags are Traefik's: dotted paths, case-insensitive, written --path=value or --path value;\n"
    "a bare boolean or section flag means true. Without flags, the configuration is read from\n"
    "environment variables TRAEFIK_<PATH> and BERTH_<PATH> (`_` for `.`, BERTH_ wins).\n";

#if defined(__linux__)
constexpr const char* os = "linux";
#elif defined(__APPLE__)
constexpr const char* os = "darwin";
#else
constexpr const char* os = "unknown";
#endif

#if defined(__x86_64__)
constexpr const char* arch = "amd64";
#elif defined(__aarch64__)
constexpr const char* arch = "arm64";
#else
constexpr const char* arch = "unknown";
#endif

// The layout of `traefik version`: one "Name:   value" line each.
void print_version() {
  std::printf("Version:      %.*s\n", static_cast<int>(berth::app::version.size()),
              berth::app::version.data());
  const std::string_view commit =
      berth::app::git_commit.empty() ? std::string_view{"unknown"} : berth::app::git_commit;
  std::printf("Commit:       %.*s\n", static_cast<int>(commit.size()), commit.data());
  std::printf("Compiler:     %s\n", __VERSION__);
  std::printf("OS/Arch:      %s/%s\n", os, arch);
}

std::vector<std::string> environment() {
  std::vector<std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) out.emplace_back(*entry);
  return out;
}

/// Probes /ping on the entry point the same static configuration serves it on.
int healthcheck(const berth::config::StaticConfiguration& configuration) {
  if (!configuration.ping) {
    std::fputs("berth: healthcheck needs ping enabled (--ping=true)\n", stderr);
    return 1;
  }
  const auto entry_point = configuration.entry_points.find(configuration.ping->entry_point);
  if (entry_point == configuration.entry_points.end()) {
    std::fprintf(stderr, "berth: no entry point %s for ping\n",
                 configuration.ping->entry_point.c_str());
    return 1;
  }
  const int status = berth::api::probe_ping(entry_point->second.address, std::chrono::seconds{3});
  if (status != 0) {
    std::fprintf(stderr, "berth: ping on %s failed\n", entry_point->second.address.c_str());
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "version" || args[0] == "--version")) {
    print_version();
    return 0;
  }
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::fputs(usage.data(), stdout);
    std::fputs(berth::config::static_flags_help().c_str(), stdout);
    return 0;
  }
  try {
    if (!args.empty() && args[0] == "healthcheck") {
      return healthcheck(berth::config::parse_static_configuration(
          std::vector<std::string>(args.begin() + 1, args.end()), environment()));
    }
    return berth::app::run(berth::config::parse_static_configuration(args, environment()));
  } catch (const berth::config::StaticConfigError& error) {
    std::fprintf(stderr, "berth: %s\n", error.what());
    return 2;
  }
}
