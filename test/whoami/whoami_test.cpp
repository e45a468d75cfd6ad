// End-to-end checks of the berth-whoami test backend, run as a child process on an ephemeral port.

#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

using berth::test::ChildProcess;
using berth::test::HttpClient;
using berth::test::HttpRequest;
using berth::test::WebSocketClient;
using namespace std::chrono_literals;

namespace {

const std::string localhost = "127.0.0.1";

struct Whoami {
  ChildProcess process;
  std::uint16_t port;
};

auto start_whoami(const std::vector<std::string>& extra = {}) -> Whoami {
  std::vector<std::string> args{"--port", "0", "--name", "alpha"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto child = ChildProcess::start(BERTH_WHOAMI_PATH, args);
  REQUIRE(child);
  auto port = child->read_until("listening on :", 10s);
  REQUIRE(port);
  auto number = std::stoul(*port);
  REQUIRE((number > 0 && number < 65536));
  return {std::move(*child), static_cast<std::uint16_t>(number)};
}

auto healthcheck(std::uint16_t port) -> int {
  auto child =
      ChildProcess::start(BERTH_WHOAMI_PATH, {"healthcheck", "--port", std::to_string(port)});
  REQUIRE(child);
  auto code = child->wait(10s);
  REQUIRE(code);
  return *code;
}

auto hostname() -> std::string {
  std::array<char, 256> buffer{};
  REQUIRE(gethostname(buffer.data(), buffer.size() - 1) == 0);
  return buffer.data();
}

}  // namespace

TEST_CASE("GET reports the host, the name and the request, on a kept-alive connection") {
  auto whoami = start_whoami();
  HttpClient client{localhost, whoami.port};
  for (const auto* target : {"/some/path?x=1", "/"}) {
    auto res = client.get(target, {{"X-Test", "hello"}});
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->header("Content-Type").value_or("").starts_with("text/plain"));
    const auto& body = res->body;
    CHECK_THAT(body, Catch::StartsWith("Hostname: " + hostname() + "\nName: alpha\n"));
    CHECK_THAT(body, Catch::Contains("\nRemoteAddr: 127.0.0.1:"));
    CHECK_THAT(body, Catch::Contains("\nGET " + std::string{target} + " HTTP/1.1\n"));
    CHECK_THAT(body, Catch::Contains("\nHost: 127.0.0.1:" + std::to_string(whoami.port) + "\n"));
    CHECK_THAT(body, Catch::Contains("\nX-Test: hello\n"));
    CHECK(client.connected());
  }
}

TEST_CASE("/health switches between ok and unhealthy") {
  auto whoami = start_whoami();
  HttpClient client{localhost, whoami.port};
  struct Step {
    std::string method;
    std::string target;
    unsigned status;
    std::string body;
  };
  const std::vector<Step> steps{
      {"GET", "/health", 200, "ok\n"},
      {"POST", "/health/fail", 503, "unhealthy\n"},
      {"GET", "/health", 503, "unhealthy\n"},
      {"POST", "/health/ok", 200, "ok\n"},
      {"GET", "/health?set=fail", 503, "unhealthy\n"},
      {"GET", "/health", 503, "unhealthy\n"},
      {"GET", "/health?set=ok", 200, "ok\n"},
      {"GET", "/health/fail", 405, "use POST /health/fail\n"},
      {"GET", "/health?set=maybe", 400, "bad set 'maybe': want ok or fail\n"},
      {"GET", "/health", 200, "ok\n"},
  };
  for (const auto& step : steps) {
    INFO(step.method << " " << step.target);
    auto res = client.request(HttpRequest{step.method, step.target, {}, {}});
    REQUIRE(res);
    CHECK(res->status == step.status);
    CHECK(res->body == step.body);
  }
}

TEST_CASE("the healthcheck subcommand follows /health") {
  auto whoami = start_whoami();
  CHECK(healthcheck(whoami.port) == 0);
  HttpClient client{localhost, whoami.port};
  REQUIRE(client.request(HttpRequest{"POST", "/health/fail", {}, {}}));
  CHECK(healthcheck(whoami.port) == 1);
  REQUIRE(whoami.process.signal(SIGKILL));
  REQUIRE(whoami.process.wait(5s));
  CHECK(healthcheck(whoami.port) == 1);
}

TEST_CASE("?status and ?size shape the answer; bad values are named") {
  auto whoami = start_whoami();
  HttpClient client{localhost, whoami.port};
  struct Case {
    std::string target;
    unsigned status;
    std::string body_start;
    std::size_t size;  // 0: any size
  };
  const std::vector<Case> cases{
      {"/?status=503", 503, "Hostname: ", 0},
      {"/x?status=201&size=5", 201, "xxxxx", 5},
      {"/?size=100000", 200, "xxxxxxxx", 100000},
      {"/?size=0", 200, "", 0},
      {"/?status=abc", 400, "bad status 'abc'", 0},
      {"/?status=99", 400, "bad status '99'", 0},
      {"/?size=-1", 400, "bad size '-1'", 0},
      {"/?delay=forever", 400, "bad delay 'forever'", 0},
      {"/?delay=61s", 400, "bad delay '61s'", 0},
  };
  for (const auto& c : cases) {
    INFO(c.target);
    auto res = client.get(c.target);
    REQUIRE(res);
    CHECK(res->status == c.status);
    CHECK_THAT(res->body, Catch::StartsWith(c.body_start));
    if (c.size != 0) CHECK(res->body.size() == c.size);
    if (c.target == "/?size=0") CHECK(res->body.empty());
  }
}

TEST_CASE("?delay holds the answer back") {
  auto whoami = start_whoami();
  HttpClient client{localhost, whoami.port};
  auto start = std::chrono::steady_clock::now();
  auto res = client.get("/?delay=300ms");
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(elapsed >= 300ms);
  CHECK(elapsed < 5s);
}

TEST_CASE("/ws greets, then echoes with the name") {
  auto whoami = start_whoami();
  auto ws = WebSocketClient::connect(localhost, whoami.port, "/ws");
  REQUIRE(ws);
  auto hello = ws->receive();
  REQUIRE(hello);
  CHECK(*hello == "hello from alpha");
  for (const auto* message : {"ping", "second message", ""}) {
    REQUIRE(ws->send(message));
    auto echo = ws->receive();
    REQUIRE(echo);
    CHECK(*echo == std::string{"alpha: "} + message);
  }
  CHECK(ws->close());
}

TEST_CASE("SIGTERM finishes the request in flight, closes idle connections and exits 0") {
  auto whoami = start_whoami();
  HttpClient idle{localhost, whoami.port};
  REQUIRE(idle.get("/"));
  REQUIRE(idle.connected());
  auto ws = WebSocketClient::connect(localhost, whoami.port, "/ws");
  REQUIRE(ws);
  REQUIRE(ws->receive());

  berth::test::Result<berth::test::HttpResponse> delayed =
      berth::test::Result<berth::test::HttpResponse>::failure("not run");
  std::thread request{[&] {
    HttpClient client{localhost, whoami.port, 10s};
    delayed = client.get("/?delay=1500ms");
  }};
  // Give the delayed request time to reach the server before the signal.
  std::this_thread::sleep_for(500ms);
  auto started = std::chrono::steady_clock::now();
  REQUIRE(whoami.process.signal(SIGTERM));
  request.join();

  REQUIRE(delayed);
  CHECK(delayed->status == 200);
  CHECK_FALSE(delayed->keep_alive);
  auto closed = ws->receive();
  CHECK_FALSE(closed);
  CHECK(ws->close_code() == 1001);
  auto code = whoami.process.wait(5s);
  REQUIRE(code);
  CHECK(*code == 0);
  // Idle keep-alive connections did not hold the exit back to the 10 s drain limit.
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK_FALSE(berth::test::http_get(localhost, whoami.port, "/", 1s));
}

TEST_CASE("logs each arrival with --log-requests, serves on after SIGTERM with --drain-delay") {
  auto whoami = start_whoami({"--log-requests", "--drain-delay", "600ms"});
  HttpClient kept{localhost, whoami.port};
  auto before = std::chrono::system_clock::now();
  REQUIRE(kept.get("/first?x=1"));
  auto line = whoami.process.read_until("request ", 5s);
  REQUIRE(line);
  auto space = line->find(' ');
  REQUIRE(space != std::string::npos);
  CHECK(line->substr(space) == " GET /first?x=1");
  auto arrival = std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds{std::stoll(line->substr(0, space))})};
  CHECK(arrival >= before - 1s);
  CHECK(arrival <= std::chrono::system_clock::now() + 1s);

  auto signalled = std::chrono::steady_clock::now();
  REQUIRE(whoami.process.signal(SIGTERM));
  std::this_thread::sleep_for(200ms);
  // Within the delay both the kept-alive connection and new ones are still served as usual.
  auto res = kept.get("/during");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->keep_alive);
  CHECK(berth::test::http_get(localhost, whoami.port, "/new", 1s));
  auto during = whoami.process.read_until("request ", 5s);
  REQUIRE(during);
  CHECK(during->ends_with(" GET /during"));

  auto code = whoami.process.wait(5s);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(std::chrono::steady_clock::now() - signalled >= 600ms);
  CHECK_FALSE(berth::test::http_get(localhost, whoami.port, "/", 1s));
}

TEST_CASE("bad command lines are rejected with exit code 2") {
  auto args = GENERATE(std::vector<std::string>{"--port", "abc"},
                       std::vector<std::string>{"--port", "70000"},
                       std::vector<std::string>{"--bogus", "1"}, std::vector<std::string>{"--port"},
                       std::vector<std::string>{"--drain-delay", "soon"},
                       std::vector<std::string>{"healthcheck", "--log-requests"},
                       std::vector<std::string>{"healthcheck", "--name", "x"});
  auto child = ChildProcess::start(BERTH_WHOAMI_PATH, args);
  REQUIRE(child);
  auto code = child->wait(5s);
  REQUIRE(code);
  CHECK(*code == 2);
}
