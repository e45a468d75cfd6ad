// The server TLS context: one SSL_CTX per store whose ClientHello callback picks, per connection,
// the tls.options (from the SNI, through the caller's selector) and the certificate (by SNI), so
// versions, ciphers, curves and client authentication are decided before version negotiation.

#include "berth/tls/store.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/tls1.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <mutex>
#include <unordered_map>

#include "berth/log/log.hpp"
#include "pem.hpp"

namespace berth::tls {

using namespace detail;

namespace {

struct ChainFree {
  void operator()(STACK_OF(X509) * chain) const noexcept { sk_X509_pop_free(chain, X509_free); }
};
struct NamesFree {
  void operator()(STACK_OF(X509_NAME) * names) const noexcept {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
  }
};
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;
using NamesPtr = std::unique_ptr<STACK_OF(X509_NAME), NamesFree>;

struct LoadedCertificate {
  X509Ptr leaf;
  KeyPtr key;
  ChainPtr chain;
  std::string subject;
  std::vector<std::string> names;
};

struct ResolvedOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  ///< 0: the highest OpenSSL supports
  std::string cipher_list;
  std::string groups;
  int verify_mode = SSL_VERIFY_NONE;
  bool verify_any = false;  ///< RequestClientCert / RequireAnyClientCert: any certificate will do
  X509StorePtr ca_store;
  NamesPtr ca_names;
  bool sni_strict = false;
  bool no_tickets = false;
  std::vector<unsigned char> alpn;  ///< wire format, only the protocols berth speaks
  std::array<unsigned char, 32> session_context{};  ///< set with the context
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<int> parse_version(std::string_view name) {
  static const std::map<std::string_view, int> versions{{"VersionTLS10", TLS1_VERSION},
                                                        {"VersionTLS11", TLS1_1_VERSION},
                                                        {"VersionTLS12", TLS1_2_VERSION},
                                                        {"VersionTLS13", TLS1_3_VERSION}};
  auto it = versions.find(name);
  if (it == versions.end()) return std::nullopt;
  return it->second;
}

/// Go's cipher suite names (as Traefik takes them) to OpenSSL's. TLS 1.3 suites are listed as
/// accepted but, as in Go, not configurable: they map to "".
std::optional<std::string_view> openssl_cipher(std::string_view go_name) {
  static const std::map<std::string_view, std::string_view> ciphers{
      {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
      {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
      {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
      {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
      {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
      {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
      {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_AES_128_GCM_SHA256", ""},
      {"TLS_AES_256_GCM_SHA384", ""},
      {"TLS_CHACHA20_POLY1305_SHA256", ""}};
  auto it = ciphers.find(go_name);
  if (it == ciphers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> openssl_group(std::string_view go_name) {
  static const std::map<std::string_view, std::string_view> groups{
      {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"},
      {"secp256r1", "P-256"}, {"secp384r1", "P-384"}, {"secp521r1", "P-521"}, {"x25519", "X25519"}};
  auto it = groups.find(go_name);
  if (it == groups.end()) return std::nullopt;
  return it->second;
}

int selector_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int options_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

/// The host_name of the ClientHello's server_name extension, lower-cased; "" when absent.
std::string client_hello_sni(SSL* ssl) {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &size) != 1 || size < 5) {
    return {};
  }
  const std::size_t list = (std::size_t{data[0]} << 8) | data[1];
  if (list + 2 != size || data[2] != TLSEXT_NAMETYPE_host_name) return {};
  const std::size_t length = (std::size_t{data[3]} << 8) | data[4];
  if (length + 5 > size) return {};
  std::string name = lower(std::string_view(reinterpret_cast<const char*>(data + 5), length));
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

int accept_any_certificate(int, X509_STORE_CTX*) {
  return 1;
}

/// One generated default per process, so rebuilding a store keeps presenting the same one.
const std::optional<PemPair>& generated_default() {
  static const std::optional<PemPair> pair =
      generate_certificate(CertificateSpec{std::string(default_certificate_name), {}, {}});
  return pair;
}

}  // namespace

struct Store::Impl {
  /// What only handshakes need is made by the first one: OpenSSL's first use (its algorithms, a
  /// generated key, the SSL_CTX) costs megabytes that a proxy never asked for TLS does not pay.
  void prepare() {
    std::call_once(prepared, [this] { build_context(); });
  }
  void build_context();

  std::once_flag prepared;
  std::unique_ptr<boost::asio::ssl::context> context;
  std::vector<LoadedCertificate> certificates;
  std::unordered_map<std::string, std::size_t> by_name;
  std::optional<std::size_t> default_certificate;
  std::map<std::string, ResolvedOptions, std::less<>> options;

  const LoadedCertificate* find(std::string_view server_name) const {
    if (server_name.empty()) return nullptr;
    if (auto it = by_name.find(std::string(server_name)); it != by_name.end()) {
      return &certificates[it->second];
    }
    const auto dot = server_name.find('.');
    if (dot == std::string_view::npos) return nullptr;
    auto it = by_name.find("*" + std::string(server_name.substr(dot)));
    return it == by_name.end() ? nullptr : &certificates[it->second];
  }

  const LoadedCertificate* certificate_for(std::string_view server_name) const {
    if (const auto* certificate = find(server_name)) return certificate;
    return default_certificate ? &certificates[*default_certificate] : nullptr;
  }

  const ResolvedOptions& options_for(std::string_view name) const {
    auto it = options.find(name.empty() ? std::string_view("default") : name);
    // Routers may qualify the name with a provider ("modern@file"); the store keys it bare.
    if (const auto at = name.rfind('@'); it == options.end() && at != std::string_view::npos) {
      it = options.find(name.substr(0, at));
    }
    if (it == options.end()) it = options.find("default");
    return it->second;
  }

  static int on_client_hello(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                     const unsigned char* in, unsigned in_length, void* arg);
};

int Store::Impl::on_client_hello(SSL* ssl, int* alert, void* arg) {
  const auto* impl = static_cast<const Impl*>(arg);
  const std::string sni = client_hello_sni(ssl);
  const auto* selector =
      static_cast<const OptionsSelector*>(SSL_get_ex_data(ssl, selector_index()));
  const ResolvedOptions& options = impl->options_for(selector != nullptr ? (*selector)(sni) : "");
  // The ALPN callback runs later in the same handshake and reads the options from here.
  SSL_set_ex_data(ssl, options_index(), const_cast<ResolvedOptions*>(&options));

  const LoadedCertificate* certificate = impl->find(sni);
  if (certificate == nullptr) {
    if (options.sni_strict) {
      *alert = SSL_AD_UNRECOGNIZED_NAME;
      return SSL_CLIENT_HELLO_ERROR;
    }
    certificate = impl->certificate_for("");
  }
  bool ok = certificate != nullptr &&
            SSL_use_cert_and_key(ssl, certificate->leaf.get(), certificate->key.get(),
                                 certificate->chain.get(), 1) == 1 &&
            SSL_set_min_proto_version(ssl, options.min_version) == 1 &&
            SSL_set_max_proto_version(ssl, options.max_version) == 1 &&
            SSL_set_session_id_context(ssl, options.session_context.data(),
                                       static_cast<unsigned>(options.session_context.size())) == 1;
  if (ok && !options.cipher_list.empty()) {
    ok = SSL_set_cipher_list(ssl, options.cipher_list.c_str()) == 1;
  }
  if (ok && !options.groups.empty()) ok = SSL_set1_groups_list(ssl, options.groups.c_str()) == 1;
  if (ok && options.verify_mode != SSL_VERIFY_NONE) {
    SSL_set_verify(ssl, options.verify_mode, options.verify_any ? accept_any_certificate : nullptr);
    if (options.ca_store) ok = SSL_set1_verify_cert_store(ssl, options.ca_store.get()) == 1;
    if (ok && options.ca_names)
      SSL_set_client_CA_list(ssl, SSL_dup_CA_list(options.ca_names.get()));
  }
  if (options.no_tickets) SSL_set_options(ssl, SSL_OP_NO_TICKET);
  if (!ok) {
    ERR_clear_error();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

int Store::Impl::on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                         const unsigned char* in, unsigned in_length, void*) {
  const auto* options = static_cast<const ResolvedOptions*>(SSL_get_ex_data(ssl, options_index()));
  if (options == nullptr || options->alpn.empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, options->alpn.data(),
                            static_cast<unsigned>(options->alpn.size()), in,
                            in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

namespace {

std::variant<ResolvedOptions, std::string> resolve_options(const config::TlsOptions& options) {
  ResolvedOptions out;
  if (!options.min_version.empty()) {
    auto version = parse_version(options.min_version);
    if (!version) return "unknown minVersion \"" + options.min_version + "\"";
    out.min_version = *version;
  }
  if (!options.max_version.empty()) {
    auto version = parse_version(options.max_version);
    if (!version) return "unknown maxVersion \"" + options.max_version + "\"";
    out.max_version = *version;
  }
  for (const auto& suite : options.cipher_suites) {
    auto cipher = openssl_cipher(suite);
    if (!cipher) return "unknown cipher suite \"" + suite + "\"";
    if (cipher->empty()) continue;
    if (!out.cipher_list.empty()) out.cipher_list += ':';
    out.cipher_list += *cipher;
  }
  for (const auto& curve : options.curve_preferences) {
    auto group = openssl_group(curve);
    if (!group) return "unknown curve \"" + curve + "\"";
    if (!out.groups.empty()) out.groups += ':';
    out.groups += *group;
  }
  out.sni_strict = options.sni_strict;
  out.no_tickets = options.disable_session_tickets;

  // Only HTTP/1.1 is spoken; other protocols in the list are not offered.
  const bool default_alpn = options.alpn_protocols.empty();
  if (default_alpn || std::find(options.alpn_protocols.begin(), options.alpn_protocols.end(),
                                "http/1.1") != options.alpn_protocols.end()) {
    constexpr std::string_view http11 = "http/1.1";
    out.alpn.push_back(static_cast<unsigned char>(http11.size()));
    out.alpn.insert(out.alpn.end(), http11.begin(), http11.end());
  }

  if (options.client_auth) {
    const auto& auth = *options.client_auth;
    std::string type = auth.client_auth_type;
    // Traefik: CA files without a type mean RequireAndVerifyClientCert.
    if (type.empty()) type = auth.ca_files.empty() ? "NoClientCert" : "RequireAndVerifyClientCert";
    if (type == "RequestClientCert") {
      out.verify_mode = SSL_VERIFY_PEER;
      out.verify_any = true;
    } else if (type == "RequireAnyClientCert") {
      out.verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      out.verify_any = true;
    } else if (type == "VerifyClientCertIfGiven") {
      out.verify_mode = SSL_VERIFY_PEER;
    } else if (type == "RequireAndVerifyClientCert") {
      out.verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    } else if (type != "NoClientCert") {
      return "unknown clientAuthType \"" + type + "\"";
    }
    if (out.verify_mode != SSL_VERIFY_NONE && !out.verify_any && auth.ca_files.empty()) {
      return "clientAuthType " + type + " needs caFiles";
    }
    if (!auth.ca_files.empty()) {
      out.ca_store.reset(X509_STORE_new());
      out.ca_names.reset(sk_X509_NAME_new_null());
      for (const auto& file : auth.ca_files) {
        auto text = read_pem(file);
        if (auto* error = std::get_if<std::string>(&text)) return "caFiles: " + *error;
        auto certs = parse_certificates(std::get<PemText>(text).text);
        if (auto* error = std::get_if<std::string>(&certs)) return "caFiles: " + *error;
        for (auto& cert : std::get<0>(certs)) {
          X509_STORE_add_cert(out.ca_store.get(), cert.get());
          sk_X509_NAME_push(out.ca_names.get(), X509_NAME_dup(X509_get_subject_name(cert.get())));
        }
      }
    }
  }
  return out;
}

std::variant<LoadedCertificate, std::string> load_certificate(const std::string& cert_file,
                                                              const std::string& key_file) {
  auto cert_text = read_pem(cert_file);
  if (auto* error = std::get_if<std::string>(&cert_text)) return *error;
  auto key_text = read_pem(key_file);
  if (auto* error = std::get_if<std::string>(&key_text)) return *error;
  auto certs = parse_certificates(std::get<PemText>(cert_text).text);
  if (auto* error = std::get_if<std::string>(&certs)) return "certificate: " + *error;
  auto key = parse_key(std::get<PemText>(key_text).text);
  if (auto* error = std::get_if<std::string>(&key)) return "key: " + *error;

  LoadedCertificate out;
  auto& list = std::get<0>(certs);
  out.leaf = std::move(list.front());
  out.key = std::move(std::get<KeyPtr>(key));
  if (X509_check_private_key(out.leaf.get(), out.key.get()) != 1) {
    ERR_clear_error();
    return std::string("the private key does not match the certificate");
  }
  out.chain.reset(sk_X509_new_null());
  for (std::size_t i = 1; i < list.size(); ++i) sk_X509_push(out.chain.get(), list[i].release());
  out.subject = common_name(out.leaf.get());
  out.names = certificate_names(out.leaf.get());
  return out;
}

}  // namespace

void Store::Impl::build_context() {
  for (auto& [name, resolved] : options) {
    // Sessions resume only under the options they were made with (client auth above all).
    const std::string id = "berth tls.options " + name;
    unsigned int digest_size = 0;
    EVP_Digest(id.data(), id.size(), resolved.session_context.data(), &digest_size, EVP_sha256(),
               nullptr);
  }
  if (!default_certificate) {
    if (const auto& pair = generated_default()) {
      auto loaded = load_certificate(pair->cert, pair->key);
      if (auto* certificate = std::get_if<LoadedCertificate>(&loaded)) {
        default_certificate = certificates.size();
        certificates.push_back(std::move(*certificate));
      }
    }
    if (!default_certificate) log::error("tls", "cannot generate the default certificate");
  }

  context = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_client_hello_cb(ctx, &Impl::on_client_hello, this);
  SSL_CTX_set_alpn_select_cb(ctx, &Impl::on_alpn, nullptr);
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Store::Result Store::build(const config::TlsConfiguration& configuration) {
  auto impl = std::make_unique<Impl>();
  Result result;
  auto fail = [&](std::string message) { result.errors.push_back(std::move(message)); };

  for (const auto& [name, options] : configuration.options) {
    auto resolved = resolve_options(options);
    if (auto* error = std::get_if<std::string>(&resolved)) {
      fail("tls.options \"" + name + "\": " + *error + " (the default options apply instead)");
      continue;
    }
    impl->options.emplace(name, std::get<ResolvedOptions>(std::move(resolved)));
  }
  if (impl->options.find("default") == impl->options.end()) {
    impl->options.emplace("default", std::get<ResolvedOptions>(resolve_options({})));
  }

  for (const auto& entry : configuration.certificates) {
    const bool default_store =
        entry.stores.empty() ||
        std::find(entry.stores.begin(), entry.stores.end(), "default") != entry.stores.end();
    if (!default_store) {
      fail("certificate \"" + entry.cert_file + "\": only the \"default\" store is supported");
      continue;
    }
    auto loaded = load_certificate(entry.cert_file, entry.key_file);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      fail("certificate \"" + entry.cert_file + "\": " + *error);
      continue;
    }
    const std::size_t index = impl->certificates.size();
    impl->certificates.push_back(std::get<LoadedCertificate>(std::move(loaded)));
    // The first certificate for a name keeps it, as in Traefik.
    for (const auto& name : impl->certificates.back().names) impl->by_name.emplace(name, index);
  }

  for (const auto& [name, store] : configuration.stores) {
    if (name != "default") {
      fail("tls.stores \"" + name + "\": only the \"default\" store is supported");
      continue;
    }
    if (!store.default_certificate) continue;
    auto loaded =
        load_certificate(store.default_certificate->cert_file, store.default_certificate->key_file);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      fail("default certificate \"" + store.default_certificate->cert_file + "\": " + *error);
      continue;
    }
    impl->default_certificate = impl->certificates.size();
    impl->certificates.push_back(std::get<LoadedCertificate>(std::move(loaded)));
  }
  result.store = std::shared_ptr<const Store>(new Store(std::move(impl)));
  return result;
}

boost::asio::ssl::context& Store::context() const {
  impl_->prepare();
  return *impl_->context;
}

void Store::attach(ssl_st* ssl, const OptionsSelector* selector) const {
  SSL_set_ex_data(ssl, selector_index(), const_cast<OptionsSelector*>(selector));
}

std::string Store::subject_for(std::string_view server_name) const {
  impl_->prepare();
  const auto* certificate = impl_->certificate_for(lower(server_name));
  return certificate != nullptr ? certificate->subject : std::string();
}

bool Store::has_options(std::string_view name) const {
  return impl_->options.find(name) != impl_->options.end();
}

struct ClientContext::Impl {
  void build() {
    context = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    SSL_CTX* ctx = context->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (insecure_skip_verify) {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      return;
    }
    // Missing system CA files are no error to OpenSSL: this fails only when out of memory.
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      log::error("tls", "cannot load the system CA certificates: {}", openssl_error());
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const auto& cert : root_cas) X509_STORE_add_cert(store, cert.get());
    root_cas.clear();
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }

  bool insecure_skip_verify = false;
  std::vector<X509Ptr> root_cas;  ///< until built
  std::once_flag built;
  std::unique_ptr<boost::asio::ssl::context> context;
};

ClientContext::ClientContext(bool insecure_skip_verify, const std::vector<std::string>& root_cas,
                             std::vector<std::string>& errors)
    : impl_(std::make_unique<Impl>()) {
  impl_->insecure_skip_verify = insecure_skip_verify;
  if (insecure_skip_verify) return;
  for (const auto& ca : root_cas) {
    auto text = read_pem(ca);
    if (auto* error = std::get_if<std::string>(&text)) {
      errors.push_back("rootCAs: " + *error);
      continue;
    }
    auto certs = parse_certificates(std::get<PemText>(text).text);
    if (auto* error = std::get_if<std::string>(&certs)) {
      errors.push_back("rootCAs \"" + ca + "\": " + *error);
      continue;
    }
    for (auto& cert : std::get<0>(certs)) impl_->root_cas.push_back(std::move(cert));
  }
}

ClientContext::~ClientContext() = default;

boost::asio::ssl::context& ClientContext::get() {
  std::call_once(impl_->built, [this] { impl_->build(); });
  return *impl_->context;
}

bool set_server_name(ssl_st* ssl, const std::string& host) {
  boost::system::error_code not_address;
  boost::asio::ip::make_address(host, not_address);
  // SSL_set_tlsext_host_name, without the macro's C cast.
  return !not_address || SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                  const_cast<char*>(host.c_str())) == 1;
}

}  // namespace berth::tls
