#include "proxy_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <utility>

#include "berth/runtime/snapshot.hpp"
#include "berth/tls/store.hpp"

namespace berth::proxy::test {

ServerOptions test_server_options(const std::vector<std::string>& entry_points) {
  ServerOptions options;
  for (const std::string& name : entry_points)
    options.entry_points.push_back({name, "127.0.0.1:0"});
  options.workers = 2;
  options.server_name = "berth-test";
  return options;
}

Proxy::Proxy(ServerOptions options) : options_(options), server_(std::move(options)) {
  server_.start();
}

Proxy::~Proxy() {
  server_.stop(std::chrono::seconds{1});
}

std::vector<std::string> Proxy::publish_reporting(const config::Configuration& configuration,
                                                  std::vector<std::string> tls_entry_points) {
  runtime::BuildOptions build;
  for (const auto& entry_point : options_.entry_points)
    build.entry_points.push_back(entry_point.name);
  build.default_entry_points = {"web"};
  build.tls_entry_points = std::move(tls_entry_points);
  build.health = &health_;
  build.chains = middleware::chain_factory(middleware::Environment{.registry = &middleware_state_});
  const runtime::BuildResult result = runtime::build_snapshot(configuration, build);
  std::vector<std::string> errors;
  for (const auto& error : result.errors) errors.push_back(error.name + ": " + error.message);
  server_.publish(result.snapshot);
  return errors;
}

void Proxy::publish(const config::Configuration& configuration,
                    std::vector<std::string> tls_entry_points) {
  const auto errors = publish_reporting(configuration, std::move(tls_entry_points));
  CAPTURE(errors);
  REQUIRE(errors.empty());
}

void Proxy::set_tls(const config::TlsConfiguration& configuration) {
  auto result = tls::Store::build(configuration);
  CAPTURE(result.errors);
  REQUIRE(result.errors.empty());
  server_.set_tls(result.store);
}

std::uint16_t Proxy::port(const std::string& entry_point) {
  return *server_.port(entry_point);
}

}  // namespace berth::proxy::test
