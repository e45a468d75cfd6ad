#pragma once
// What a daemon started with -H tcp://... (and --tlsverify) looks like to a client: a TCP listener
// on 127.0.0.1, optionally TLS requiring a client certificate, relaying every connection to the
// fake daemon's unix socket.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace berth::docker::test {

struct FrontTls {
  std::string ca_file;    ///< client certificates must be signed by this CA
  std::string cert_file;  ///< the daemon's certificate
  std::string key_file;
};

class TcpFront {
 public:
  TcpFront(std::string socket_path, std::optional<FrontTls> tls);
  ~TcpFront();
  TcpFront(const TcpFront&) = delete;
  TcpFront& operator=(const TcpFront&) = delete;

  std::uint16_t port() const;
  /// Connections accepted so far.
  std::size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::docker::test
