// Runs the built `berth` binary (BERTH_BINARY, from $<TARGET_FILE:berth>) and checks its output.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct Result {
  int status = -1;
  std::string output;  ///< stdout and stderr together
};

Result run_berth(const std::string& arguments, const std::string& environment = "env -i") {
  const std::string command = environment + " '" + BERTH_BINARY + "' " + arguments + " 2>&1";
  Result result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  std::size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), read);
  }
  const int status = pclose(pipe);
  REQUIRE(WIFEXITED(status));
  result.status = WEXITSTATUS(status);
  return result;
}

}  // namespace

TEST_CASE("--help prints the usage and every flag, grouped") {
  const auto help = GENERATE("--help", "-h", "help");
  const Result result = run_berth(help);
  CHECK(result.status == 0);
  CHECK_THAT(result.output, Catch::StartsWith("Usage: berth"));
  for (const char* expected :
       {"\nentryPoints:\n", "\nproviders:\n", "\napi:\n", "\nlog:\n",
        "--entryPoints.<name>.address",
        "--providers.docker.exposedByDefault=<bool>  (default: true)", "--api.insecure",
        "--ping.terminatingStatusCode=<int>  (default: 503)", "--metrics.prometheus",
        "--accessLog.format", "--log.level=<string>  (default: ERROR)", "--workers"}) {
    CAPTURE(expected);
    CHECK_THAT(result.output, Catch::Contains(expected));
  }
}

TEST_CASE("version and --version print Go-like Version lines") {
  const auto command = GENERATE("version", "--version");
  const Result result = run_berth(command);
  CHECK(result.status == 0);
  CHECK_THAT(result.output, Catch::StartsWith("Version:      0."));
  CHECK_THAT(result.output, Catch::Contains("\nCommit:       "));
}

TEST_CASE("a bad flag exits 2 naming it") {
  const Result result = run_berth("--providers.docker.exposedbydefaul=false");
  CHECK(result.status == 2);
  CHECK(result.output ==
        "berth: unknown flag --providers.docker.exposedbydefaul (did you mean "
        "--providers.docker.exposedByDefault?)\n");
}

TEST_CASE("a bad value exits 2 naming the flag, the value and the expected type") {
  const Result result = run_berth("--entrypoints.web.address=:80 --workers many");
  CHECK(result.status == 2);
  CHECK(result.output == "berth: invalid value \"many\" for flag --workers: expected an integer\n");
}

TEST_CASE("a bad environment variable exits 2 naming it") {
  const Result result = run_berth("", "env -i TRAEFIK_LOG_LEVEL=loud");
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::StartsWith("berth: invalid value \"loud\" for environment "
                                              "variable TRAEFIK_LOG_LEVEL"));
}

TEST_CASE("berth refuses to start when an entry point cannot be bound") {
  const Result result = run_berth("--entrypoints.web.address=256.0.0.1:80");
  CHECK(result.status != 0);
  CHECK_THAT(result.output, Catch::Contains("256.0.0.1"));
}
