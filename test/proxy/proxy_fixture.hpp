#pragma once
// The proxy under test in component tests: an in-process proxy::Server on 127.0.0.1:0 whose
// configurations are built as the app builds them (middleware chains, a health registry kept
// across swaps).

#include <cstdint>
#include <string>
#include <vector>

#include "berth/config/dynamic.hpp"
#include "berth/config/tls.hpp"
#include "berth/middleware/chain.hpp"
#include "berth/proxy/server.hpp"
#include "berth/runtime/health.hpp"

namespace berth::proxy::test {

/// The named entry points on 127.0.0.1:0, two workers, server name "berth-test".
ServerOptions test_server_options(const std::vector<std::string>& entry_points = {"web"});

class Proxy {
 public:
  explicit Proxy(ServerOptions options = test_server_options());
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  /// Builds and publishes `configuration` (routers without entry points go to "web"); the test
  /// fails when a router or service is left out.
  void publish(const config::Configuration& configuration,
               std::vector<std::string> tls_entry_points = {});
  /// The same, returning "name: message" for each router or service left out.
  std::vector<std::string> publish_reporting(const config::Configuration& configuration,
                                             std::vector<std::string> tls_entry_points = {});
  /// Loads certificates and TLS options; the test fails when one cannot be loaded.
  void set_tls(const config::TlsConfiguration& configuration);

  std::uint16_t port(const std::string& entry_point = "web");
  Server& server() { return server_; }
  runtime::HealthRegistry& health() { return health_; }
  const ServerOptions& options() const { return options_; }

 private:
  ServerOptions options_;
  runtime::HealthRegistry health_;
  middleware::StateRegistry middleware_state_;
  Server server_;
};

}  // namespace berth::proxy::test
