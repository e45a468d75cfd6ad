#pragma once
// Server certificates and tls.options for the entry points, as Traefik's TLS manager keeps them:
// certificates chosen by SNI (exact names first, then one-label wildcards, from each certificate's
// SANs and CN), the default store's default certificate otherwise, and a generated self-signed one
// when none is configured. A Store is immutable; a new one is built on every configuration change
// and swapped in like a snapshot, so files replaced on disk take effect without a restart.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/config/tls.hpp"

struct ssl_st;

namespace boost::asio::ssl {
class context;
}

namespace berth::tls {

/// What generate_certificate() issues.
struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool ca = false;
  std::chrono::hours validity{24 * 365};
};

/// A certificate and its private key, PEM encoded.
struct PemPair {
  std::string cert;
  std::string key;
};

/// Issues a certificate with a fresh P-256 key, signed by `issuer` or self-signed; nullopt when
/// OpenSSL fails (or the issuer does not parse).
std::optional<PemPair> generate_certificate(const CertificateSpec& spec,
                                            const PemPair* issuer = nullptr);

/// The Common Name Traefik gives its generated default certificate; berth uses the same.
inline constexpr std::string_view default_certificate_name = "TRAEFIK DEFAULT CERT";

/// Picks the tls.options name for a handshake from its SNI ("" when the client sent none). An
/// unknown or empty name means "default".
using OptionsSelector = std::function<std::string(std::string_view server_name)>;

class Store {
 public:
  struct Result {
    std::shared_ptr<const Store> store;
    /// Certificates and options that could not be loaded; they are left out, the rest is served.
    std::vector<std::string> errors;
  };

  /// Never throws: bad certificates or options are reported and skipped.
  static Result build(const config::TlsConfiguration& configuration);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// The server context every TLS connection of an entry point is created from; the first call
  /// builds it (and generates the default certificate when none is configured).
  boost::asio::ssl::context& context() const;

  /// Prepares a server connection before its handshake: `selector` (which must outlive the
  /// handshake) names the options to apply once the ClientHello's SNI is known.
  void attach(ssl_st* ssl, const OptionsSelector* selector) const;

  /// The subject CN of the certificate a handshake with this SNI is given (ignoring sniStrict).
  std::string subject_for(std::string_view server_name) const;

  /// True when `name` has options of its own (otherwise "default" applies).
  bool has_options(std::string_view name) const;

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The client context for upstream TLS: peer verification against the system CAs plus `root_cas`
/// (file paths or PEM content), unless `insecure_skip_verify`. It is built on first use, once,
/// from any thread: loading the system CAs costs milliseconds and megabytes of heap that a proxy
/// without https:// servers never needs. The root CAs are read at construction, so a bad one is
/// still an error at start; unloadable ones go to `errors`.
class ClientContext {
 public:
  ClientContext(bool insecure_skip_verify, const std::vector<std::string>& root_cas,
                std::vector<std::string>& errors);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  boost::asio::ssl::context& get();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Names `host` in a client handshake's SNI, unless it is an IP address (SNI carries names only).
/// False when OpenSSL refuses the name.
bool set_server_name(ssl_st* ssl, const std::string& host);

}  // namespace berth::tls
