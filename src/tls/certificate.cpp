// Certificate generation (the self-signed default, test CAs) and PEM loading.

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "berth/tls/store.hpp"
#include "pem.hpp"

namespace berth::tls {
namespace detail {
namespace {

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string openssl_error() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    if (!out.empty()) out += "; ";
    out += text.data();
  }
  return out.empty() ? std::string("unknown OpenSSL error") : out;
}

std::variant<PemText, std::string> read_pem(std::string_view path_or_content) {
  if (path_or_content.find("-----BEGIN") != std::string_view::npos) {
    return PemText{std::string(path_or_content)};
  }
  std::ifstream in{std::string(path_or_content), std::ios::binary};
  if (!in) return "cannot read \"" + std::string(path_or_content) + "\"";
  std::ostringstream text;
  text << in.rdbuf();
  return PemText{text.str()};
}

std::variant<std::vector<X509Ptr>, std::string> parse_certificates(const std::string& pem) {
  auto bio = memory_bio(pem);
  std::vector<X509Ptr> out;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(cert);
  }
  // The loop ends on "no start line" once the text is exhausted; that is not an error.
  ERR_clear_error();
  if (out.empty()) return std::string("no PEM certificate found");
  return out;
}

std::variant<KeyPtr, std::string> parse_key(const std::string& pem) {
  auto bio = memory_bio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return "no PEM private key found (" + openssl_error() + ")";
  return key;
}

std::string common_name(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> names;
  if (auto cn = common_name(cert); !cn.empty()) names.push_back(lower(cn));
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.push_back(
          lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                 static_cast<std::size_t>(ASN1_STRING_length(dns)))));
    }
    GENERAL_NAMES_free(sans);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace detail

namespace {

using namespace detail;

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) return false;
  const bool ok = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

std::optional<std::string> to_pem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return std::nullopt;
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::optional<std::string> to_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return std::nullopt;
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

std::optional<PemPair> generate_certificate(const CertificateSpec& spec, const PemPair* issuer) {
  KeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) return std::nullopt;

  X509Ptr issuer_cert;
  KeyPtr issuer_key;
  if (issuer != nullptr) {
    auto certs = parse_certificates(issuer->cert);
    auto parsed_key = parse_key(issuer->key);
    if (certs.index() != 0 || parsed_key.index() != 0) return std::nullopt;
    issuer_cert = std::move(std::get<0>(certs).front());
    issuer_key = std::move(std::get<0>(parsed_key));
  }

  X509_set_version(cert.get(), 2);
  std::array<unsigned char, 16> serial{};
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) return std::nullopt;
  serial[0] &= 0x7f;  // a positive serial
  BIGNUM* number = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get()));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  std::chrono::duration_cast<std::chrono::seconds>(spec.validity).count());
  X509_set_pubkey(cert.get(), key.get());

  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer = issuer_cert ? issuer_cert.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));

  std::string alt_names;
  for (const auto& dns : spec.dns_names) alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : spec.ip_addresses) alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
  bool ok = add_extension(cert.get(), signer, NID_basic_constraints,
                          spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            add_extension(cert.get(), signer, NID_key_usage,
                          spec.ca ? "critical,keyCertSign,cRLSign"
                                  : "critical,digitalSignature,keyEncipherment") &&
            add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (ok && !spec.ca)
    ok = add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  if (ok && !alt_names.empty()) {
    ok = add_extension(cert.get(), signer, NID_subject_alt_name, alt_names);
  }
  if (!ok) return std::nullopt;
  EVP_PKEY* signing_key = issuer_key ? issuer_key.get() : key.get();
  if (X509_sign(cert.get(), signing_key, EVP_sha256()) == 0) return std::nullopt;

  auto cert_pem = to_pem(cert.get());
  auto key_pem = to_pem(key.get());
  if (!cert_pem || !key_pem) return std::nullopt;
  return PemPair{std::move(*cert_pem), std::move(*key_pem)};
}

}  // namespace berth::tls
