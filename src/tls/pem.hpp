#pragma once
// Private to tls: OpenSSL handles with owners, and PEM given as a file path or as content.

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace berth::tls::detail {

struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using X509StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

struct PemText {
  std::string text;
};

/// Traefik takes certFile/keyFile/caFiles either as a path or as the PEM text itself; an error
/// names the file.
std::variant<PemText, std::string> read_pem(std::string_view path_or_content);

/// Every certificate of a PEM text, in order; an error names what failed.
std::variant<std::vector<X509Ptr>, std::string> parse_certificates(const std::string& pem);
std::variant<KeyPtr, std::string> parse_key(const std::string& pem);

/// Lower-cased DNS SANs and the CN (Traefik indexes both).
std::vector<std::string> certificate_names(X509* cert);
std::string common_name(X509* cert);

/// The OpenSSL error queue as text, emptied.
std::string openssl_error();

}  // namespace berth::tls::detail
