#pragma once
// DockerApi over Beast: unix socket, tcp or tcp+TLS. Requests (connect, list, inspect) may be
// made from one thread at a time and stream_events from one other thread at a time; shutdown() from
// any thread.

#include <chrono>
#include <memory>

#include "berth/docker/api.hpp"
#include "berth/docker/endpoint.hpp"

namespace berth::docker {

struct ClientOptions {
  Endpoint endpoint;
  std::chrono::milliseconds connect_timeout{5000};
  /// For list/inspect/version; the event stream has none (it is silent while nothing happens).
  std::chrono::milliseconds request_timeout{30000};
};

class Client final : public DockerApi {
 public:
  explicit Client(ClientOptions options);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // DockerApi
  Result<DaemonInfo> connect() override;
  Result<std::vector<std::string>> list_containers() override;
  Result<labels::ContainerInfo> inspect_container(std::string_view id) override;
  Result<Done> stream_events(std::int64_t since_nano,
                             const std::function<void(const Event&)>& on_event,
                             const std::function<void()>& on_connected) override;
  void shutdown() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::docker
