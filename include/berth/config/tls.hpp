#pragma once
// The TLS part of the dynamic configuration, as plain data mirroring Traefik's
// `tls.TLSConfiguration` (certificates, options and stores of the file provider's `tls:` section).
// JSON (config/json.hpp) decodes and encodes it through the `visit_fields` lists below, as it does
// dynamic.hpp.

#include <concepts>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "berth/config/dynamic.hpp"

namespace berth::config {

/// A certificate and its key: file paths, or the PEM content itself (Traefik accepts both).
struct Certificate {
  std::string cert_file;
  std::string key_file;
  friend bool operator==(const Certificate&, const Certificate&) = default;
};

/// An entry of `tls.certificates`: a certificate and the stores it belongs to.
struct CertificateEntry {
  std::string cert_file;
  std::string key_file;
  StringList stores;
  friend bool operator==(const CertificateEntry&, const CertificateEntry&) = default;
};

struct ClientAuth {
  StringList ca_files;
  /// NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or
  /// RequireAndVerifyClientCert, as Traefik names them.
  std::string client_auth_type;
  friend bool operator==(const ClientAuth&, const ClientAuth&) = default;
};

/// An entry of `tls.options`.
struct TlsOptions {
  std::string min_version;  ///< "VersionTLS12", ...
  std::string max_version;
  StringList cipher_suites;
  StringList curve_preferences;
  std::optional<ClientAuth> client_auth;
  bool sni_strict = false;
  StringList alpn_protocols;
  bool disable_session_tickets = false;
  friend bool operator==(const TlsOptions&, const TlsOptions&) = default;
};

/// A store's generated default certificate, obtained from a certificate resolver.
struct GeneratedCert {
  std::string resolver;
  std::optional<Domain> domain;
  friend bool operator==(const GeneratedCert&, const GeneratedCert&) = default;
};

/// An entry of `tls.stores`.
struct TlsStore {
  std::optional<Certificate> default_certificate;
  std::optional<GeneratedCert> default_generated_cert;
  friend bool operator==(const TlsStore&, const TlsStore&) = default;
};

struct TlsConfiguration {
  std::vector<CertificateEntry> certificates;
  std::map<std::string, TlsOptions> options;
  std::map<std::string, TlsStore> stores;
  friend bool operator==(const TlsConfiguration&, const TlsConfiguration&) = default;
};

// ---------------------------------------------------------------------------------------------
// Field lists, under Traefik's JSON names.

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Certificate>
void visit_fields(V& v, T& c) {
  v.field("certFile", c.cert_file);
  v.field("keyFile", c.key_file);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, CertificateEntry>
void visit_fields(V& v, T& c) {
  v.field("certFile", c.cert_file);
  v.field("keyFile", c.key_file);
  v.field("stores", c.stores);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, ClientAuth>
void visit_fields(V& v, T& c) {
  v.field("caFiles", c.ca_files);
  v.field("clientAuthType", c.client_auth_type);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, TlsOptions>
void visit_fields(V& v, T& o) {
  v.field("minVersion", o.min_version);
  v.field("maxVersion", o.max_version);
  v.field("cipherSuites", o.cipher_suites);
  v.field("curvePreferences", o.curve_preferences);
  v.field("clientAuth", o.client_auth);
  v.field("sniStrict", o.sni_strict);
  v.field("alpnProtocols", o.alpn_protocols);
  v.field("disableSessionTickets", o.disable_session_tickets);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, GeneratedCert>
void visit_fields(V& v, T& g) {
  v.field("resolver", g.resolver);
  v.field("domain", g.domain);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, TlsStore>
void visit_fields(V& v, T& s) {
  v.field("defaultCertificate", s.default_certificate);
  v.field("defaultGeneratedCert", s.default_generated_cert);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, TlsConfiguration>
void visit_fields(V& v, T& t) {
  v.field("certificates", t.certificates);
  v.field("options", t.options);
  v.field("stores", t.stores);
}

}  // namespace berth::config
