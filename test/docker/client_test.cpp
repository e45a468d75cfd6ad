#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "berth/docker/client.hpp"
#include "berth/tls/store.hpp"
#include "fake_daemon.hpp"
#include "support/temp_dir.hpp"
#include "tcp_front.hpp"

using namespace berth::docker;
using berth::docker::test::container_id;
using berth::docker::test::FakeDaemon;
using berth::docker::test::FrontTls;
using berth::docker::test::TcpFront;
using namespace std::chrono_literals;

namespace {

Client make_client(const FakeDaemon& daemon) {
  ClientOptions options;
  options.endpoint = std::get<Endpoint>(parse_endpoint(daemon.endpoint()));
  return Client(options);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Every request was a GET; every one but /_ping carried the version prefix.
void check_requests(const FakeDaemon& daemon, const std::string& version) {
  for (const auto& request : daemon.requests()) {
    CAPTURE(request.target);
    CHECK(request.method == "GET");
    if (request.target != "/_ping") CHECK(request.target.starts_with("/v" + version + "/"));
  }
}

}  // namespace

TEST_CASE("negotiation uses the lower of the daemon version and 1.47", "[client]") {
  struct Case {
    std::string daemon_min, daemon_max, expected;
  };
  const auto c = GENERATE(values<Case>({
      {"1.24", "1.47", "1.47"},
      {"1.24", "1.43", "1.43"},
      {"1.40", "1.52", "1.47"},
      {"1.12", "1.24", "1.24"},
  }));
  FakeDaemon daemon;
  daemon.set_api_versions(c.daemon_min, c.daemon_max);
  Client client(ClientOptions{std::get<Endpoint>(parse_endpoint(daemon.endpoint()))});
  const auto result = client.connect();
  if (const auto* error = std::get_if<Error>(&result)) FAIL(error->message);
  const auto& info = std::get<DaemonInfo>(result);
  CHECK(info.api_version.to_string() == c.expected);
  CHECK(info.daemon_api_version.to_string() == c.daemon_max);
  CHECK(info.daemon_min_api_version.to_string() == c.daemon_min);
  CHECK(info.daemon_version == "27.3.1");
  // The Date header: the daemon's clock, within a generous margin of ours.
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  CHECK(std::abs(now - info.daemon_time_nano) < 60'000'000'000);
  REQUIRE(std::holds_alternative<std::vector<std::string>>(client.list_containers()));
  check_requests(daemon, c.expected);
}

TEST_CASE("negotiation fails clearly when no version fits", "[client]") {
  struct Case {
    std::string daemon_min, daemon_max, ping_version;
    bool ping_header;
    std::vector<std::string> message_parts;
  };
  const auto c = GENERATE(values<Case>({
      // Docker 29.0: minimum 1.44 is fine; a future daemon requiring 1.48 is not.
      {"1.48", "1.52", "", true, {"refuses API 1.47", "Minimum supported API version is 1.48"}},
      // A daemon too old for berth.
      {"1.12", "1.23", "", true, {"1.23", "at least 1.24"}},
      // No Api-Version header: 1.24 is assumed, and the daemon says it is too old.
      {"1.44", "1.52", "", false, {"is too old", "Minimum supported API version is 1.44"}},
      // The ping claims more than /version accepts: the daemon's "too new" is passed on.
      {"1.24", "1.41", "1.47", true, {"is too new", "Maximum supported API version is 1.41"}},
  }));
  FakeDaemon daemon;
  daemon.set_api_versions(c.daemon_min, c.daemon_max);
  daemon.set_ping_header(c.ping_header);
  daemon.set_ping_version(c.ping_version);
  auto client = make_client(daemon);
  const auto result = client.connect();
  REQUIRE(std::holds_alternative<Error>(result));
  const auto& error = std::get<Error>(result);
  CHECK(error.kind == Error::Kind::version);
  CHECK(contains(error.message, daemon.endpoint()));
  for (const auto& part : c.message_parts) {
    CAPTURE(error.message, part);
    CHECK(contains(error.message, part));
  }
  // Nothing else is attempted without a version.
  REQUIRE(std::holds_alternative<Error>(client.list_containers()));
}

TEST_CASE("a daemon whose MinAPIVersion is above 1.47 is refused from /version", "[client]") {
  FakeDaemon daemon;
  daemon.set_api_versions("1.48", "1.52");
  daemon.set_version_check(false);  // /v1.47/version answers: its MinAPIVersion must be checked
  auto client = make_client(daemon);
  const auto result = client.connect();
  REQUIRE(std::holds_alternative<Error>(result));
  CHECK(std::get<Error>(result).kind == Error::Kind::version);
  CHECK(contains(std::get<Error>(result).message, "requires API 1.48 or newer"));
  CHECK(contains(std::get<Error>(result).message, "up to 1.47"));
}

TEST_CASE("list and inspect with a vanished container being not_found", "[client]") {
  FakeDaemon daemon;
  const auto a = container_id(1);
  const auto b = container_id(2);
  daemon.put_container(FakeDaemon::make_container(a, "web-1", {{"traefik.enable", "true"}}));
  auto stopped = FakeDaemon::make_container(b, "old", {}, "");
  stopped["State"]["Status"] = "exited";
  daemon.put_container(stopped);
  auto client = make_client(daemon);
  REQUIRE(std::holds_alternative<DaemonInfo>(client.connect()));

  const auto listed = client.list_containers();
  REQUIRE(std::holds_alternative<std::vector<std::string>>(listed));
  auto ids = std::get<std::vector<std::string>>(listed);
  std::sort(ids.begin(), ids.end());
  auto expected = std::vector<std::string>{a, b};
  std::sort(expected.begin(), expected.end());
  CHECK(ids == expected);  // all=1: the exited one too

  const auto inspected = client.inspect_container(a);
  REQUIRE(std::holds_alternative<berth::labels::ContainerInfo>(inspected));
  const auto& info = std::get<berth::labels::ContainerInfo>(inspected);
  CHECK(info.name == "web-1");
  CHECK(info.networks.at("web").ipv4 == "172.18.0.2");

  const auto gone = client.inspect_container(container_id(99));
  REQUIRE(std::holds_alternative<Error>(gone));
  CHECK(std::get<Error>(gone).kind == Error::Kind::not_found);
  CHECK(contains(std::get<Error>(gone).message, "No such container"));
  CHECK(contains(std::get<Error>(gone).message, daemon.endpoint()));

  bool saw_all = false;
  for (const auto& request : daemon.requests()) {
    if (request.target == "/v1.47/containers/json?all=1") saw_all = true;
  }
  CHECK(saw_all);
  check_requests(daemon, "1.47");
}

TEST_CASE("an unreachable daemon is a connection error naming the endpoint", "[client]") {
  ClientOptions options;
  options.endpoint = std::get<Endpoint>(parse_endpoint("unix:///nonexistent/berth/docker.sock"));
  options.connect_timeout = 30s;
  Client client(options);
  const auto begin = std::chrono::steady_clock::now();
  const auto result = client.connect();
  // A missing socket fails at once, not at the connect timeout. Generous bound.
  CHECK(std::chrono::steady_clock::now() - begin < 5s);
  REQUIRE(std::holds_alternative<Error>(result));
  CHECK(std::get<Error>(result).kind == Error::Kind::connection);
  CHECK(contains(std::get<Error>(result).message, "unix:///nonexistent/berth/docker.sock"));
  CHECK(contains(std::get<Error>(result).message,
                 "cannot connect to the socket: No such file or directory"));
}

TEST_CASE("the event stream delivers filtered events from since", "[client]") {
  FakeDaemon daemon;
  const auto a = container_id(1);
  daemon.put_container(FakeDaemon::make_container(a, "web-1"));
  auto client = make_client(daemon);
  REQUIRE(std::holds_alternative<DaemonInfo>(client.connect()));

  // Happened before the subscription, but after `since`: replayed.
  daemon.push_event(FakeDaemon::container_event("create", a));

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Event> events;
  bool connected = false;
  std::optional<Result<Done>> outcome;
  const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch() - 60s)
                         .count();
  std::thread stream([&] {
    auto result = client.stream_events(
        since,
        [&](const Event& event) {
          const std::lock_guard lock(mutex);
          events.push_back(event);
          changed.notify_all();
        },
        [&] {
          const std::lock_guard lock(mutex);
          connected = true;
        });
    const std::lock_guard lock(mutex);
    outcome = std::move(result);
    changed.notify_all();
  });

  REQUIRE(daemon.wait_for_event_streams(1, 10s));
  daemon.push_event({{"Type", "image"}, {"Action", "pull"}, {"Actor", {{"ID", "nginx"}}}});
  daemon.push_event(FakeDaemon::container_event("start", a));
  daemon.push_event(FakeDaemon::network_event("connect", a));
  daemon.push_event(FakeDaemon::container_event("health_status: healthy", a));
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 10s, [&] { return events.size() >= 4; }));
    CHECK(connected);
    CHECK(events[0].action == "create");
    CHECK(events[1].action == "start");
    CHECK(events[2].type == "network");
    CHECK(events[2].container_id() == a);
    CHECK(events[3].action == "health_status: healthy");
  }

  // The daemon ends the stream: stream_events returns Done.
  daemon.drop_event_streams();
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 10s, [&] { return outcome.has_value(); }));
    CHECK(std::holds_alternative<Done>(*outcome));
    CHECK(events.size() == 4);  // the image event was filtered out by the daemon
  }
  stream.join();

  const auto requests = daemon.requests();
  const auto events_request = std::find_if(requests.begin(), requests.end(), [](const auto& r) {
    return r.target.starts_with("/v1.47/events?");
  });
  REQUIRE(events_request != requests.end());
  CHECK(contains(events_request->target, "since=" + format_since(since)));
  CHECK(contains(events_request->target, "filters="));
  check_requests(daemon, "1.47");
}

TEST_CASE("shutdown ends an idle event stream at once", "[client]") {
  FakeDaemon daemon;
  auto client = make_client(daemon);
  REQUIRE(std::holds_alternative<DaemonInfo>(client.connect()));
  std::optional<Result<Done>> outcome;
  std::thread stream([&] {
    outcome = client.stream_events(
        0, [](const Event&) {}, [] {});
  });
  REQUIRE(daemon.wait_for_event_streams(1, 10s));
  const auto begin = std::chrono::steady_clock::now();
  client.shutdown();
  stream.join();
  // The stream is silent; without the wakeup it would never end. Generous bound.
  CHECK(std::chrono::steady_clock::now() - begin < 5s);
  REQUIRE(outcome);
  REQUIRE(std::holds_alternative<Error>(*outcome));
  CHECK(std::get<Error>(*outcome).kind == Error::Kind::interrupted);
  // And later calls fail the same way, without blocking.
  const auto after = client.list_containers();
  REQUIRE(std::holds_alternative<Error>(after));
  CHECK(std::get<Error>(after).kind == Error::Kind::interrupted);
}

namespace {

/// A CA, the daemon's certificate for 127.0.0.1 and a client certificate, as `dockerd --tlsverify`
/// and DOCKER_CERT_PATH use them, plus a CA that signed none of them.
struct Certificates {
  berth::test::TempDir dir{"berth-docker-tls"};
  std::optional<berth::tls::PemPair> authority;  ///< the CA's own key pair
  std::string ca = write("ca.pem", issue({"berth test CA", {}, {}, true}).cert);
  std::string other_ca =
      write("other-ca.pem", berth::tls::generate_certificate({"other CA", {}, {}, true})->cert);
  std::string daemon_cert, daemon_key, client_cert, client_key;

  Certificates() {
    const auto daemon = issue({"docker", {"localhost"}, {"127.0.0.1"}});
    daemon_cert = write("daemon-cert.pem", daemon.cert);
    daemon_key = write("daemon-key.pem", daemon.key);
    const auto client = issue({"client", {}, {}});
    client_cert = write("cert.pem", client.cert);
    client_key = write("key.pem", client.key);
  }

  berth::tls::PemPair issue(const berth::tls::CertificateSpec& spec) {
    if (spec.ca) {
      authority = berth::tls::generate_certificate(spec);
      REQUIRE(authority);
      return *authority;
    }
    const auto pair = berth::tls::generate_certificate(spec, &*authority);
    REQUIRE(pair);
    return *pair;
  }

  std::string write(const std::string& name, const std::string& pem) {
    const auto path = (dir.path() / name).string();
    std::ofstream(path) << pem;
    return path;
  }
};

Client make_tcp_client(std::uint16_t port, std::optional<TlsOptions> tls,
                       std::chrono::milliseconds request_timeout = 30s) {
  ClientOptions options;
  options.endpoint =
      std::get<Endpoint>(parse_endpoint(fmt::format("tcp://127.0.0.1:{}", port), tls));
  options.request_timeout = request_timeout;
  return Client(options);
}

}  // namespace

TEST_CASE("a tcp endpoint keeps its connection and replaces one the daemon closed", "[client]") {
  FakeDaemon daemon;
  daemon.put_container(FakeDaemon::make_container(container_id(1), "web-1"));
  TcpFront front(daemon.socket_path(), std::nullopt);
  auto client = make_tcp_client(front.port(), std::nullopt);
  const auto connected = client.connect();
  if (const auto* error = std::get_if<Error>(&connected)) FAIL(error->message);
  REQUIRE(std::holds_alternative<std::vector<std::string>>(client.list_containers()));
  CHECK(front.connections() == 1);  // /_ping, /version and the list on one connection

  daemon.restart();  // closes every connection
  const auto listed = client.list_containers();
  if (const auto* error = std::get_if<Error>(&listed)) FAIL(error->message);
  CHECK(std::get<std::vector<std::string>>(listed).size() == 1);
  CHECK(front.connections() == 2);
}

TEST_CASE("a request without an answer fails at the request timeout and the next one works",
          "[client]") {
  FakeDaemon daemon;
  const auto a = container_id(1);
  daemon.put_container(FakeDaemon::make_container(a, "web-1"));
  TcpFront front(daemon.socket_path(), std::nullopt);
  auto client = make_tcp_client(front.port(), std::nullopt, 300ms);
  REQUIRE(std::holds_alternative<DaemonInfo>(client.connect()));
  daemon.set_inspect_delay(a, 3s);
  const auto begin = std::chrono::steady_clock::now();
  const auto late = client.inspect_container(a);
  CHECK(std::chrono::steady_clock::now() - begin < 2s);
  REQUIRE(std::holds_alternative<Error>(late));
  CHECK(std::get<Error>(late).kind == Error::Kind::connection);
  CHECK(contains(std::get<Error>(late).message, "no answer within 0.3 s"));
  CHECK(contains(std::get<Error>(late).message, "/containers/" + a + "/json"));
  daemon.set_inspect_delay(a, 0ms);
  CHECK(std::holds_alternative<berth::labels::ContainerInfo>(client.inspect_container(a)));
}

TEST_CASE("TLS to the daemon: its CA, a client certificate, and what fails", "[client]") {
  Certificates certificates;
  FakeDaemon daemon;
  TcpFront front(daemon.socket_path(),
                 FrontTls{certificates.ca, certificates.daemon_cert, certificates.daemon_key});
  const TlsOptions good{certificates.ca, certificates.client_cert, certificates.client_key, false};

  SECTION("verified with the daemon's CA, the client certificate presented") {
    auto client = make_tcp_client(front.port(), good);
    const auto connected = client.connect();
    if (const auto* error = std::get_if<Error>(&connected)) FAIL(error->message);
    CHECK(std::get<DaemonInfo>(connected).api_version.to_string() == "1.47");
  }
  SECTION("a certificate from another CA is refused, unless verification is skipped") {
    auto wrong = good;
    wrong.ca = certificates.other_ca;
    auto client = make_tcp_client(front.port(), wrong);
    const auto refused = client.connect();
    REQUIRE(std::holds_alternative<Error>(refused));
    CHECK(std::get<Error>(refused).kind == Error::Kind::connection);
    CHECK(contains(std::get<Error>(refused).message, "TLS handshake failed"));
    CHECK(contains(std::get<Error>(refused).message, "certificate verify failed"));

    wrong.insecure_skip_verify = true;
    auto skipping = make_tcp_client(front.port(), wrong);
    CHECK(std::holds_alternative<DaemonInfo>(skipping.connect()));
  }
  SECTION("without a client certificate the daemon refuses the handshake") {
    auto client = make_tcp_client(front.port(), TlsOptions{certificates.ca, "", "", false});
    const auto refused = client.connect();
    REQUIRE(std::holds_alternative<Error>(refused));
    CHECK(std::get<Error>(refused).kind == Error::Kind::connection);
  }
  SECTION("a missing CA file is named") {
    auto missing = good;
    missing.ca = (certificates.dir.path() / "nope.pem").string();
    auto client = make_tcp_client(front.port(), missing);
    const auto refused = client.connect();
    REQUIRE(std::holds_alternative<Error>(refused));
    CHECK(
        contains(std::get<Error>(refused).message, "cannot load the CA certificate " + missing.ca));
  }
}
