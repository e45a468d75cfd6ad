#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include "berth/tls/store.hpp"

using namespace berth;

namespace {

tls::PemPair issue(const tls::CertificateSpec& spec, const tls::PemPair* issuer = nullptr) {
  auto pair = tls::generate_certificate(spec, issuer);
  REQUIRE(pair);
  return *pair;
}

config::CertificateEntry entry(const tls::PemPair& pair) {
  return {pair.cert, pair.key, {}};
}

/// A directory removed at the end of the test.
struct TempDir {
  TempDir() {
    std::random_device random;
    path = std::filesystem::temp_directory_path() / ("berth-tls-" + std::to_string(random()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path / name;
    std::ofstream(file) << text;
    return file.string();
  }
  std::filesystem::path path;
};

}  // namespace

TEST_CASE("certificates are chosen by SNI: exact names, then one-label wildcards, else default") {
  const auto ca = issue({"test CA", {}, {}, true});
  config::TlsConfiguration configuration;
  configuration.certificates.push_back(entry(issue({"a.test", {"a.test", "alt.test"}, {}}, &ca)));
  configuration.certificates.push_back(entry(issue({"wildcard", {"*.wild.test"}, {}}, &ca)));
  configuration.certificates.push_back(entry(issue({"exact.wild.test", {}, {}}, &ca)));
  configuration.stores["default"].default_certificate =
      config::Certificate{issue({"default.test", {}, {}}).cert, ""};
  // The default certificate's key is missing: it is reported, and the generated one takes over.
  auto result = tls::Store::build(configuration);
  REQUIRE(result.errors.size() == 1);
  CHECK_THAT(result.errors.front(), Catch::Contains("default certificate"));

  struct Case {
    std::string sni;
    std::string subject;
  };
  const std::vector<Case> cases{
      {"a.test", "a.test"},
      {"A.TEST", "a.test"},
      {"alt.test", "a.test"},
      {"x.wild.test", "wildcard"},
      {"exact.wild.test", "exact.wild.test"},
      {"a.b.wild.test", std::string(tls::default_certificate_name)},
      {"wild.test", std::string(tls::default_certificate_name)},
      {"", std::string(tls::default_certificate_name)},
      {"unknown.test", std::string(tls::default_certificate_name)},
  };
  for (const auto& c : cases) {
    INFO(c.sni);
    CHECK(result.store->subject_for(c.sni) == c.subject);
  }
}

TEST_CASE("the default store's certificate is served when no name matches") {
  const auto fallback = issue({"default.test", {}, {}});
  config::TlsConfiguration configuration;
  configuration.stores["default"].default_certificate =
      config::Certificate{fallback.cert, fallback.key};
  auto result = tls::Store::build(configuration);
  CHECK(result.errors.empty());
  CHECK(result.store->subject_for("anything.test") == "default.test");
}

TEST_CASE("certificates load from files and from inline PEM; broken ones are reported") {
  TempDir dir;
  const auto good = issue({"file.test", {"file.test"}, {}});
  const auto other = issue({"other.test", {}, {}});
  config::TlsConfiguration configuration;
  configuration.certificates.push_back(
      {dir.write("good.crt", good.cert), dir.write("good.key", good.key), {"default"}});
  configuration.certificates.push_back({(dir.path / "missing.crt").string(), good.key, {}});
  configuration.certificates.push_back({good.cert, other.key, {}});
  configuration.certificates.push_back({dir.write("junk.crt", "not a certificate"), good.key, {}});
  configuration.certificates.push_back({other.cert, other.key, {"other-store"}});
  auto result = tls::Store::build(configuration);
  REQUIRE(result.errors.size() == 4);
  CHECK_THAT(result.errors[0], Catch::Contains("cannot read"));
  CHECK_THAT(result.errors[1], Catch::Contains("does not match"));
  CHECK_THAT(result.errors[2], Catch::Contains("no PEM certificate"));
  CHECK_THAT(result.errors[3], Catch::Contains("only the \"default\" store"));
  CHECK(result.store->subject_for("file.test") == "file.test");
  CHECK(result.store->subject_for("other.test") == std::string(tls::default_certificate_name));
}

TEST_CASE("invalid tls.options are reported and left out") {
  using Set = void (*)(config::TlsOptions&);
  struct Case {
    std::string what;
    Set set;
    std::string error;
  };
  const std::vector<Case> cases{
      {"min version", [](config::TlsOptions& o) { o.min_version = "VersionTLS14"; },
       "unknown minVersion"},
      {"max version", [](config::TlsOptions& o) { o.max_version = "TLS1.3"; },
       "unknown maxVersion"},
      {"cipher", [](config::TlsOptions& o) { o.cipher_suites = {"TLS_NOPE"}; },
       "unknown cipher suite"},
      {"curve", [](config::TlsOptions& o) { o.curve_preferences = {"CurveP999"}; },
       "unknown curve"},
      {"auth type",
       [](config::TlsOptions& o) {
         o.client_auth = config::ClientAuth{{}, "RequireSomething"};
       },
       "unknown clientAuthType"},
      {"auth without CA",
       [](config::TlsOptions& o) {
         o.client_auth = config::ClientAuth{{}, "RequireAndVerifyClientCert"};
       },
       "needs caFiles"},
      {"missing CA file",
       [](config::TlsOptions& o) {
         o.client_auth = config::ClientAuth{{"/nonexistent/ca.pem"}, ""};
       },
       "cannot read"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    config::TlsConfiguration configuration;
    c.set(configuration.options["broken"]);
    auto result = tls::Store::build(configuration);
    REQUIRE(result.errors.size() == 1);
    CHECK_THAT(result.errors.front(), Catch::Contains(c.error));
    CHECK_FALSE(result.store->has_options("broken"));
    CHECK(result.store->has_options("default"));
  }

  config::TlsConfiguration valid;
  auto& modern = valid.options["modern"];
  modern.min_version = "VersionTLS13";
  modern.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"};
  modern.curve_preferences = {"CurveP256", "X25519"};
  modern.client_auth = config::ClientAuth{{}, "RequireAnyClientCert"};
  auto result = tls::Store::build(valid);
  CHECK(result.errors.empty());
  CHECK(result.store->has_options("modern"));
}

TEST_CASE("stores without certificates present the generated default for every name") {
  for (int i = 0; i < 2; ++i) {
    auto result = tls::Store::build({});
    CHECK(result.errors.empty());
    CHECK(result.store->subject_for("") == std::string(tls::default_certificate_name));
    CHECK(result.store->subject_for("x.test") == std::string(tls::default_certificate_name));
  }
}

TEST_CASE("a store makes its server context once, for the first handshake of any thread") {
  const auto store = tls::Store::build({}).store;
  std::array<boost::asio::ssl::context*, 4> made{};
  std::vector<std::thread> threads;
  for (auto& slot : made) threads.emplace_back([&store, &slot] { slot = &store->context(); });
  for (auto& thread : threads) thread.join();
  CHECK(std::count(made.begin(), made.end(), made[0]) == 4);
  CHECK(store->subject_for("") == std::string(tls::default_certificate_name));
}

TEST_CASE("a client context reports root CAs it cannot load when made") {
  std::vector<std::string> errors;
  tls::ClientContext context(false, {"/nonexistent/ca.pem", "no pem here"}, errors);
  CHECK(errors.size() == 2);
}

TEST_CASE("a client context is built once, on first use, trusting its root CAs") {
  const auto ca = issue({"test CA", {}, {}, true});
  std::vector<std::string> errors;
  tls::ClientContext context(false, {ca.cert}, errors);
  CHECK(errors.empty());
  std::array<boost::asio::ssl::context*, 4> built{};
  std::vector<std::thread> threads;
  for (auto& slot : built) threads.emplace_back([&context, &slot] { slot = &context.get(); });
  for (auto& thread : threads) thread.join();
  CHECK(std::count(built.begin(), built.end(), built[0]) == 4);

  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(ca.cert.data(), -1), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  REQUIRE(cert);
  auto* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(built[0]->native_handle()));
  bool trusted = false;
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    X509* stored = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
    trusted = trusted || (stored != nullptr && X509_cmp(stored, cert.get()) == 0);
  }
  CHECK(trusted);
}
