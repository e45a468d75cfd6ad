// TLS on the entry points (termination, SNI, options, client auth, hot replacement, resumption),
// https:// upstreams, entry-point redirections and wss, all in-process on 127.0.0.1.

#include <catch2/catch.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "../runtime/test_config.hpp"
#include "backend.hpp"
#include "berth/proxy/server.hpp"
#include "berth/tls/store.hpp"
#include "proxy_fixture.hpp"

using namespace berth;
using namespace std::chrono_literals;
using proxy::test::Backend;
using proxy::test::Client;
using proxy::test::Proxy;
using proxy::test::Request;
using proxy::test::Response;
using proxy::test::TlsBackend;
using runtime::test::router;
namespace http = proxy::test::http;
namespace net = proxy::test::net;
namespace beast = proxy::test::beast;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

tls::PemPair issue(const tls::CertificateSpec& spec, const tls::PemPair* issuer) {
  auto pair = tls::generate_certificate(spec, issuer);
  REQUIRE(pair);
  return *pair;
}

/// A tiny PKI: one CA, leaves issued on demand.
struct Pki {
  tls::PemPair ca = issue({"berth test CA", {}, {}, true}, nullptr);
  tls::PemPair leaf(std::string cn, std::vector<std::string> dns = {},
                    std::vector<std::string> ips = {}) const {
    return issue({std::move(cn), std::move(dns), std::move(ips)}, &ca);
  }
};

void set_receive_timeout(int descriptor) {
  timeval tv{};
  tv.tv_sec = 10;
  ::setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

std::string peer_common_name(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::array<char, 256> name{};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name.data(),
                            static_cast<int>(name.size()));
  X509_free(cert);
  return name.data();
}

void use_pem(ssl::context& context, const tls::PemPair& pair) {
  context.use_certificate_chain(net::buffer(pair.cert));
  context.use_private_key(net::buffer(pair.key), ssl::context::pem);
}

struct ClientOptions {
  std::string sni{};
  int max_version = 0;
  const tls::PemPair* certificate = nullptr;
  SSL_SESSION* session = nullptr;  ///< resume this one
  std::string ciphers{};           ///< TLS 1.2 cipher list, OpenSSL names
  std::string groups{};
};

struct TlsResult {
  bool handshake = false;
  std::string peer;  ///< the presented certificate's CN
  std::optional<Response> response;
  bool resumed = false;
  std::string cipher;
  SSL_SESSION* session = nullptr;  ///< owned by the caller (SSL_SESSION_free)
};

/// One TLS connection, one request (when `request` is given).
TlsResult tls_request(std::uint16_t port, const ClientOptions& options,
                      const std::optional<Request>& request) {
  net::io_context ioc;
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_none);
  if (options.max_version != 0) {
    SSL_CTX_set_max_proto_version(context.native_handle(), options.max_version);
  }
  if (options.certificate != nullptr) use_pem(context, *options.certificate);
  if (!options.ciphers.empty()) {
    SSL_CTX_set_cipher_list(context.native_handle(), options.ciphers.c_str());
  }
  if (!options.groups.empty()) {
    SSL_CTX_set1_groups_list(context.native_handle(), options.groups.c_str());
  }
  ssl::stream<tcp::socket> stream(ioc, context);
  stream.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
  set_receive_timeout(stream.next_layer().native_handle());
  if (!options.sni.empty()) {
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(options.sni.c_str()));
  }
  if (options.session != nullptr) SSL_set_session(stream.native_handle(), options.session);
  TlsResult result;
  beast::error_code ec;
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return result;
  result.handshake = true;
  result.peer = peer_common_name(stream.native_handle());
  result.resumed = SSL_session_reused(stream.native_handle()) == 1;
  result.cipher = SSL_get_cipher_name(stream.native_handle());
  if (!request) return result;
  http::write(stream, *request, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  if (!ec) http::read(stream, buffer, parser, ec);
  if (!ec) result.response = parser.release();
  // A session is resumable only after a clean close (close_notify both ways).
  if (!ec) stream.shutdown(ec);
  result.session = SSL_get1_session(stream.native_handle());
  return result;
}

TlsResult tls_get(std::uint16_t port, const std::string& host, ClientOptions options = {}) {
  if (options.sni.empty()) options.sni = host;
  return tls_request(port, options, proxy::test::get("/", host));
}

config::Router tls_router(std::string rule, std::string service, std::string options = {}) {
  auto r = router(std::move(rule), std::move(service));
  r.tls = config::RouterTls{std::move(options), {}, {}};
  return r;
}

config::Service service_at(const std::string& url) {
  return runtime::test::load_balancer({{url, 1}});
}

config::CertificateEntry entry(const tls::PemPair& pair) {
  return {pair.cert, pair.key, {}};
}

}  // namespace

TEST_CASE("TLS is terminated and the certificate is chosen by SNI, exact then wildcard") {
  Pki pki;
  Backend a("A");
  Backend b("B");
  Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
  config::TlsConfiguration tls_configuration;
  tls_configuration.certificates.push_back(entry(pki.leaf("a.test", {"a.test"})));
  tls_configuration.certificates.push_back(entry(pki.leaf("wildcard", {"*.wild.test"})));
  const auto fallback = pki.leaf("default.test");
  tls_configuration.stores["default"].default_certificate =
      config::Certificate{fallback.cert, fallback.key};
  proxy.set_tls(tls_configuration);
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.services["b@test"] = service_at(b.url());
  c.http.routers["a@test"] = tls_router("Host(`a.test`)", "a");
  c.http.routers["b@test"] = tls_router("Host(`x.wild.test`)", "b");
  proxy.publish(c);

  auto exact = tls_get(proxy.port(), "a.test");
  REQUIRE(exact.response);
  CHECK(exact.peer == "a.test");
  CHECK(exact.response->body() == "A");
  CHECK(a.last_request()["X-Forwarded-Proto"] == "https");
  SSL_SESSION_free(exact.session);

  auto wildcard = tls_get(proxy.port(), "x.wild.test");
  REQUIRE(wildcard.response);
  CHECK(wildcard.peer == "wildcard");
  CHECK(wildcard.response->body() == "B");
  SSL_SESSION_free(wildcard.session);

  auto unknown = tls_get(proxy.port(), "other.test");
  REQUIRE(unknown.response);
  CHECK(unknown.peer == "default.test");
  CHECK(unknown.response->result() == http::status::not_found);
  SSL_SESSION_free(unknown.session);

  auto no_sni = tls_request(proxy.port(), {}, proxy::test::get("/", "a.test"));
  REQUIRE(no_sni.response);
  CHECK(no_sni.peer == "default.test");
  CHECK(no_sni.response->body() == "A");
  SSL_SESSION_free(no_sni.session);
}

TEST_CASE("without certificates a generated default certificate is presented") {
  Backend a("A");
  Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.routers["a@test"] = tls_router("Host(`a.test`)", "a");
  proxy.publish(c);
  auto result = tls_get(proxy.port(), "a.test");
  REQUIRE(result.response);
  CHECK(result.peer == std::string(tls::default_certificate_name));
  CHECK(result.response->body() == "A");
  SSL_SESSION_free(result.session);
}

TEST_CASE("one port serves TLS and plain; tls routers answer only over TLS and vice versa") {
  Backend plain("plain");
  Backend secure("secure");
  Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
  config::Configuration c;
  c.http.services["plain@test"] = service_at(plain.url());
  c.http.services["secure@test"] = service_at(secure.url());
  c.http.routers["plain@test"] = router("Host(`plain.test`)", "plain");
  c.http.routers["secure@test"] = tls_router("Host(`secure.test`)", "secure");
  proxy.publish(c);

  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/", "plain.test")).body() == "plain");
  CHECK(client.request(proxy::test::get("/", "secure.test")).result() == http::status::not_found);

  auto secure_over_tls = tls_get(proxy.port(), "secure.test");
  REQUIRE(secure_over_tls.response);
  CHECK(secure_over_tls.response->body() == "secure");
  SSL_SESSION_free(secure_over_tls.session);
  auto plain_over_tls = tls_get(proxy.port(), "plain.test");
  REQUIRE(plain_over_tls.response);
  CHECK(plain_over_tls.response->result() == http::status::not_found);
  SSL_SESSION_free(plain_over_tls.session);
}

TEST_CASE("an entry point with http.tls serves every router over TLS only") {
  Backend a("A");
  Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.routers["a@test"] = router("Host(`a.test`)", "a", 0, {"web", "websecure"});
  proxy.publish(c, {"websecure"});
  Client plain_secure(proxy.port("websecure"));
  CHECK(plain_secure.request(proxy::test::get("/", "a.test")).result() == http::status::not_found);
  auto over_tls = tls_get(proxy.port("websecure"), "a.test");
  REQUIRE(over_tls.response);
  CHECK(over_tls.response->body() == "A");
  SSL_SESSION_free(over_tls.session);
  Client plain_web(proxy.port("web"));
  CHECK(plain_web.request(proxy::test::get("/", "a.test")).body() == "A");
}

TEST_CASE("tls.options apply per SNI host: minVersion, sniStrict, client authentication") {
  Pki pki;
  Backend a("A");
  Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
  config::TlsConfiguration tls_configuration;
  tls_configuration.certificates.push_back(
      entry(pki.leaf("hosts", {"modern.test", "old.test", "strict.test", "mtls.test", "tls12.test",
                               "p384.test"})));
  tls_configuration.options["modern"].min_version = "VersionTLS13";
  tls_configuration.options["strict"].sni_strict = true;
  tls_configuration.options["mtls"].client_auth = config::ClientAuth{{pki.ca.cert}, ""};
  tls_configuration.options["tls12"].max_version = "VersionTLS12";
  tls_configuration.options["tls12"].cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
  tls_configuration.options["p384"].min_version = "VersionTLS13";
  tls_configuration.options["p384"].curve_preferences = {"CurveP384"};
  proxy.set_tls(tls_configuration);
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.routers["modern@test"] = tls_router("Host(`modern.test`)", "a", "modern");
  c.http.routers["old@test"] = tls_router("Host(`old.test`)", "a");
  c.http.routers["strict@test"] = tls_router("Host(`strict.test`)", "a", "strict@file");
  c.http.routers["mtls@test"] = tls_router("Host(`mtls.test`)", "a", "mtls");
  c.http.routers["tls12@test"] = tls_router("Host(`tls12.test`)", "a", "tls12");
  c.http.routers["p384@test"] = tls_router("Host(`p384.test`)", "a", "p384");
  proxy.publish(c);

  SECTION("a TLS 1.2 client is refused where TLS 1.3 is the minimum") {
    CHECK_FALSE(tls_get(proxy.port(), "modern.test", {.max_version = TLS1_2_VERSION}).handshake);
    auto old = tls_get(proxy.port(), "old.test", {.max_version = TLS1_2_VERSION});
    REQUIRE(old.response);
    CHECK(old.response->body() == "A");
    SSL_SESSION_free(old.session);
    auto modern = tls_get(proxy.port(), "modern.test");
    REQUIRE(modern.response);
    CHECK(modern.response->body() == "A");
    SSL_SESSION_free(modern.session);
  }
  SECTION("cipher suites and curves are those of the options") {
    CHECK_FALSE(tls_get(proxy.port(), "tls12.test", {.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"})
                    .handshake);
    auto tls12 =
        tls_get(proxy.port(), "tls12.test",
                {.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"});
    REQUIRE(tls12.response);
    CHECK(tls12.cipher == "ECDHE-ECDSA-AES256-GCM-SHA384");
    SSL_SESSION_free(tls12.session);
    CHECK_FALSE(tls_get(proxy.port(), "p384.test", {.groups = "X25519:P-256"}).handshake);
    auto p384 = tls_get(proxy.port(), "p384.test", {.groups = "X25519:P-384"});
    REQUIRE(p384.response);
    SSL_SESSION_free(p384.session);
  }
  SECTION("sniStrict refuses names without a certificate, the default one is not used") {
    tls_configuration.options["default"].sni_strict = true;
    proxy.set_tls(tls_configuration);
    CHECK_FALSE(tls_get(proxy.port(), "unknown.test").handshake);
    CHECK_FALSE(tls_request(proxy.port(), {}, std::nullopt).handshake);
    auto known = tls_get(proxy.port(), "strict.test");
    REQUIRE(known.response);
    CHECK(known.peer == "hosts");
    SSL_SESSION_free(known.session);
  }
  SECTION("client certificates are required and verified against the CA files") {
    CHECK_FALSE(tls_get(proxy.port(), "mtls.test").response);
    const auto stranger = issue({"stranger", {}, {}}, nullptr);
    CHECK_FALSE(tls_get(proxy.port(), "mtls.test", {.certificate = &stranger}).response);
    const auto member = pki.leaf("member");
    auto accepted = tls_get(proxy.port(), "mtls.test", {.certificate = &member});
    REQUIRE(accepted.response);
    CHECK(accepted.response->body() == "A");
    SSL_SESSION_free(accepted.session);
    // Other hosts on the same port ask for no certificate.
    auto old = tls_get(proxy.port(), "old.test");
    REQUIRE(old.response);
    SSL_SESSION_free(old.session);
    // ... but cannot be used to reach the protected host (Traefik answers 421 too).
    auto fronted =
        tls_request(proxy.port(), {.sni = "old.test"}, proxy::test::get("/", "mtls.test"));
    REQUIRE(fronted.response);
    CHECK(fronted.response->result() == http::status::misdirected_request);
    SSL_SESSION_free(fronted.session);
    // Hosts sharing their options may differ from the SNI.
    auto shared = tls_request(proxy.port(), {.sni = "old.test"}, proxy::test::get("/", "a.b"));
    REQUIRE(shared.response);
    CHECK(shared.response->result() == http::status::not_found);
    SSL_SESSION_free(shared.session);
  }
}

TEST_CASE("certificate files replaced on disk are served after set_tls, without restart") {
  Pki pki;
  Backend a("A");
  std::random_device random;
  const auto dir =
      std::filesystem::temp_directory_path() / ("berth-proxy-tls-" + std::to_string(random()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const tls::PemPair& pair) {
    std::ofstream(dir / "a.crt") << pair.cert;
    std::ofstream(dir / "a.key") << pair.key;
  };
  write(pki.leaf("a.test first", {"a.test"}));
  config::TlsConfiguration tls_configuration;
  tls_configuration.certificates.push_back(
      {(dir / "a.crt").string(), (dir / "a.key").string(), {}});

  Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
  proxy.set_tls(tls_configuration);
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.routers["a@test"] = tls_router("Host(`a.test`)", "a");
  proxy.publish(c);
  CHECK(tls_get(proxy.port(), "a.test").peer == "a.test first");

  write(pki.leaf("a.test second", {"a.test"}));
  proxy.set_tls(tls_configuration);
  auto after = tls_get(proxy.port(), "a.test");
  REQUIRE(after.response);
  CHECK(after.peer == "a.test second");
  CHECK(after.response->body() == "A");
  SSL_SESSION_free(after.session);
  std::filesystem::remove_all(dir);
}

TEST_CASE("TLS sessions resume") {
  Backend a("A");
  proxy::ServerOptions options = proxy::test::test_server_options({"web", "websecure"});
  options.workers = 1;
  Proxy proxy(options);
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.routers["a@test"] = tls_router("Host(`a.test`)", "a");
  proxy.publish(c);
  auto first = tls_get(proxy.port(), "a.test");
  REQUIRE(first.response);
  REQUIRE(first.session != nullptr);
  CHECK_FALSE(first.resumed);
  auto second = tls_get(proxy.port(), "a.test", {.session = first.session});
  REQUIRE(second.response);
  CHECK(second.resumed);
  CHECK(second.response->body() == "A");
  SSL_SESSION_free(first.session);
  SSL_SESSION_free(second.session);
}

TEST_CASE("https:// servers are verified against the trusted CAs, with SNI") {
  Pki pki;
  const auto secure = pki.leaf("localhost", {"localhost"}, {"127.0.0.1"});
  TlsBackend backend("secure backend", secure.cert, secure.key);
  config::Configuration c;
  c.http.services["s@test"] = service_at("https://localhost:" + std::to_string(backend.port()));
  c.http.services["ip@test"] = service_at("https://127.0.0.1:" + std::to_string(backend.port()));
  c.http.routers["s@test"] = router("Host(`s.test`)", "s");
  c.http.routers["ip@test"] = router("Host(`ip.test`)", "ip");

  SECTION("trusted through rootCAs") {
    auto options = proxy::test::test_server_options({"web", "websecure"});
    options.transport.root_cas = {pki.ca.cert};
    Proxy proxy(options);
    proxy.publish(c);
    Client client(proxy.port());
    auto response = client.request(proxy::test::get("/", "s.test"));
    CHECK(response.result() == http::status::ok);
    CHECK(response.body() == "secure backend");
    CHECK(backend.sni() == "localhost");
    CHECK(client.request(proxy::test::get("/", "ip.test")).body() == "secure backend");
  }
  SECTION("refused when the CA is not trusted") {
    Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
    proxy.publish(c);
    Client client(proxy.port());
    CHECK(client.request(proxy::test::get("/", "s.test")).result() == http::status::bad_gateway);
    CHECK(backend.requests() == 0);
  }
  SECTION("accepted with insecureSkipVerify") {
    auto options = proxy::test::test_server_options({"web", "websecure"});
    options.transport.insecure_skip_verify = true;
    Proxy proxy(options);
    proxy.publish(c);
    Client client(proxy.port());
    CHECK(client.request(proxy::test::get("/", "s.test")).body() == "secure backend");
  }
}

TEST_CASE("a root CA that cannot be loaded is an error when the server is made") {
  auto options = proxy::test::test_server_options({"web"});
  options.transport.root_cas = {"/nonexistent/ca.pem"};
  CHECK_THROWS_AS(proxy::Server(options), std::invalid_argument);
}

TEST_CASE("entry point redirections answer 301/308 or 302/307 with the TLS port") {
  Backend a("A");
  struct Case {
    bool permanent;
    http::verb method;
    http::status status;
  };
  const std::vector<Case> cases{
      {true, http::verb::get, http::status::moved_permanently},
      {true, http::verb::post, http::status::permanent_redirect},
      {false, http::verb::get, http::status::found},
      {false, http::verb::head, http::status::temporary_redirect},
  };
  for (const auto& test : cases) {
    auto options = proxy::test::test_server_options({"web", "websecure"});
    options.entry_points[0].redirect = proxy::RedirectOptions{};
    options.entry_points[0].redirect->entry_point = "websecure";
    options.entry_points[0].redirect->permanent = test.permanent;
    Proxy proxy(options);
    config::Configuration c;
    c.http.services["a@test"] = service_at(a.url());
    c.http.routers["a@test"] = router("Host(`app`)", "a", 0, {"web", "websecure"});
    proxy.publish(c);
    Client client(proxy.port());
    Request request{test.method, "/path?q=1", 11};
    request.set(http::field::host, "app:8000");
    auto response = client.request(request);
    CHECK(response.result() == test.status);
    CHECK(response[http::field::location] ==
          "https://app:" + std::to_string(proxy.port("websecure")) + "/path?q=1");
  }
  CHECK(a.requests() == 0);

  // The scheme's default port is left out; TLS requests on the entry point are not redirected.
  auto options = proxy::test::test_server_options({"web", "websecure"});
  options.entry_points[0].redirect = proxy::RedirectOptions{};
  options.entry_points[0].redirect->port = 443;
  Proxy proxy(options);
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.routers["a@test"] = tls_router("Host(`app`)", "a");
  proxy.publish(c);
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/x", "app"))[http::field::location] == "https://app/x");
  auto over_tls = tls_get(proxy.port(), "app");
  REQUIRE(over_tls.response);
  CHECK(over_tls.response->body() == "A");
  SSL_SESSION_free(over_tls.session);
}

TEST_CASE("WebSockets work over TLS (wss)") {
  Backend a("A");
  Proxy proxy(proxy::test::test_server_options({"web", "websecure"}));
  config::Configuration c;
  c.http.services["a@test"] = service_at(a.url());
  c.http.routers["a@test"] = tls_router("Host(`app`)", "a");
  proxy.publish(c);

  net::io_context ioc;
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_none);
  beast::websocket::stream<ssl::stream<tcp::socket>> ws(ioc, context);
  beast::get_lowest_layer(ws).connect({net::ip::make_address("127.0.0.1"), proxy.port()});
  set_receive_timeout(beast::get_lowest_layer(ws).native_handle());
  ws.next_layer().handshake(ssl::stream_base::client);
  ws.handshake("app", "/ws");
  for (const std::string& text : {std::string("hello"), std::string(100000, 'w')}) {
    ws.write(net::buffer(text));
    beast::flat_buffer buffer;
    ws.read(buffer);
    CHECK(beast::buffers_to_string(buffer.data()) == text);
  }
  ws.close(beast::websocket::close_code::normal);
  CHECK(a.last_request()["X-Forwarded-Proto"] == "wss");
}

TEST_CASE("snapshots keep TLS routers apart and name the tls.options of each SNI host") {
  config::Configuration c;
  c.http.services["s@test"] = runtime::test::load_balancer({{"https://backend.test", 1}});
  c.http.routers["x1@test"] = tls_router("Host(`shared.test`)", "s", "x");
  c.http.routers["x2@test"] = tls_router("Host(`shared.test`) && Path(`/y`)", "s", "y");
  c.http.routers["only@test"] = tls_router("Host(`only.test`)", "s", "x@file");
  c.http.routers["plain@test"] = router("Host(`plain.test`)", "s", 0, {"web", "websecure"});
  runtime::BuildOptions options;
  options.entry_points = {"web", "websecure"};
  options.default_entry_points = {"web"};
  options.tls_entry_points = {"websecure"};
  auto result = runtime::build_snapshot(c, options);
  REQUIRE(result.errors.empty());
  const auto& snapshot = *result.snapshot;

  REQUIRE(snapshot.routes("web") != nullptr);
  REQUIRE(snapshot.tls_routes("web") != nullptr);
  CHECK(snapshot.routes("web")->routes().size() == 1);
  CHECK(snapshot.tls_routes("web")->routes().size() == 3);
  // On an entry point with http.tls, plain routers become TLS routers.
  CHECK(snapshot.routes("websecure")->routes().empty());
  REQUIRE(snapshot.tls_routes("websecure") != nullptr);
  CHECK(snapshot.tls_routes("websecure")->routes().front().name == "plain@test");

  struct Case {
    std::string entry_point;
    std::string host;
    std::string options;
  };
  const std::vector<Case> cases{
      {"web", "shared.test", "default"},  // routers of one host disagree
      {"web", "only.test", "x@file"},     {"web", "plain.test", "default"},
      {"web", "unknown.test", "default"}, {"websecure", "plain.test", "default"},
      {"other", "only.test", "default"},
  };
  for (const auto& test : cases) {
    INFO(test.entry_point << " " << test.host);
    CHECK(snapshot.tls_options_for(test.entry_point, test.host) == test.options);
  }

  const auto& server = snapshot.service("s@test")->servers.front();
  CHECK(server.tls);
  CHECK(server.port == 443);
  CHECK(server.pool_key == "tls:backend.test:443");
}
