#include "berth/proxy/access_log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace berth;
using namespace std::chrono_literals;

namespace {

/// 2024-01-02T03:04:05.123456789Z
const auto start_time = std::chrono::system_clock::time_point(
    std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::seconds{1704164645} + std::chrono::nanoseconds{123456789}));

proxy::RequestRecord routed_record() {
  proxy::RequestRecord record;
  record.client_ip = "10.0.0.1";
  record.client_port = 51234;
  record.start = start_time;
  record.duration = 12700us;
  record.method = "GET";
  record.path = "/a?b=1";
  record.protocol = "HTTP/1.1";
  record.host = "app.example:8000";
  record.status = 200;
  record.origin_status = 200;
  record.request_bytes = 5;
  record.response_bytes = 42;
  record.user_agent = "curl/8.0";
  record.request_count = 7;
  record.entry_point = "web";
  record.router = "app@docker";
  record.service = "app@docker";
  record.server_url = "http://10.0.0.2:80";
  return record;
}

std::string line(const proxy::RequestRecord& record, proxy::AccessLogFormat format) {
  std::string out;
  proxy::format_access_line(record, format, out);
  return out;
}

/// StartLocal and time follow the local zone, as Traefik's do: pin it.
struct UtcZone {
  UtcZone() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

std::filesystem::path temp_file(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("berth-access-log-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir / "logs" / "access.log";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("common log format lines as Traefik writes them") {
  struct Case {
    std::string name;
    std::function<void(proxy::RequestRecord&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"routed request", [](proxy::RequestRecord&) {},
       "10.0.0.1 - - [02/Jan/2024:03:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42 \"-\" "
       "\"curl/8.0\" 7 \"app@docker\" \"http://10.0.0.2:80\" 12ms\n"},
      {"no router matched",
       [](proxy::RequestRecord& r) {
         r.router = r.service = r.server_url = {};
         r.status = 404;
         r.origin_status = 0;
         r.response_bytes = 19;
         r.user_agent = {};
       },
       "10.0.0.1 - - [02/Jan/2024:03:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 404 19 \"-\" \"-\" 7 "
       "\"-\" \"-\" 12ms\n"},
      {"quotes, backslashes and control bytes are escaped",
       [](proxy::RequestRecord& r) {
         r.user_agent = "evil\" \"x\\y\nz";
         r.referer = "http://r/\"";
         r.user = "bob";
       },
       "10.0.0.1 - bob [02/Jan/2024:03:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42 "
       "\"http://r/\\\"\" \"evil\\\" \\\"x\\\\y\\x0az\" 7 \"app@docker\" \"http://10.0.0.2:80\" "
       "12ms\n"},
      {"HTTP/1.0, a second and a half",
       [](proxy::RequestRecord& r) {
         r.protocol = "HTTP/1.0";
         r.duration = 1500ms;
         r.method = "POST";
       },
       "10.0.0.1 - - [02/Jan/2024:03:04:05 +0000] \"POST /a?b=1 HTTP/1.0\" 200 42 \"-\" "
       "\"curl/8.0\" 7 \"app@docker\" \"http://10.0.0.2:80\" 1500ms\n"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto record = routed_record();
      c.change(record);
      CHECK(line(record, proxy::AccessLogFormat::common) == c.expected);
    }
  }
}

TEST_CASE("JSON lines carry Traefik's field names, sorted as Go writes them") {
  const UtcZone utc;
  CHECK(line(routed_record(), proxy::AccessLogFormat::json) ==
        "{\"ClientAddr\":\"10.0.0.1:51234\",\"ClientHost\":\"10.0.0.1\",\"ClientPort\":\"51234\","
        "\"ClientUsername\":\"-\",\"DownstreamContentSize\":42,\"DownstreamStatus\":200,"
        "\"Duration\":12700000,\"OriginContentSize\":42,\"OriginStatus\":200,"
        "\"Overhead\":12700000,\"RequestAddr\":\"app.example:8000\",\"RequestContentSize\":5,"
        "\"RequestCount\":7,\"RequestHost\":\"app.example\",\"RequestMethod\":\"GET\","
        "\"RequestPath\":\"/a?b=1\",\"RequestPort\":\"8000\",\"RequestProtocol\":\"HTTP/1.1\","
        "\"RequestScheme\":\"http\",\"RetryAttempts\":0,\"RouterName\":\"app@docker\","
        "\"ServiceAddr\":\"10.0.0.2:80\",\"ServiceName\":\"app@docker\","
        "\"ServiceURL\":\"http://10.0.0.2:80\",\"StartLocal\":\"2024-01-02T03:04:05.123456789Z\","
        "\"StartUTC\":\"2024-01-02T03:04:05.123456789Z\",\"entryPointName\":\"web\","
        "\"level\":\"info\",\"msg\":\"\",\"time\":\"2024-01-02T03:04:05Z\"}\n");
}

TEST_CASE("JSON lines: local answers, IPv6 clients and hostile strings stay valid JSON") {
  struct Case {
    std::string name;
    std::function<void(proxy::RequestRecord&)> change;
    std::function<void(const nlohmann::json&)> check;
  };
  const std::vector<Case> cases = {
      {"no router: no router, service or origin fields",
       [](proxy::RequestRecord& r) {
         r.router = r.service = r.server_url = {};
         r.origin_status = 0;
         r.status = 404;
       },
       [](const nlohmann::json& j) {
         CHECK(j["DownstreamStatus"] == 404);
         for (const char* absent :
              {"RouterName", "ServiceName", "ServiceURL", "ServiceAddr", "OriginStatus"}) {
           CHECK_FALSE(j.contains(absent));
         }
       }},
      {"IPv6 client, TLS, no Host",
       [](proxy::RequestRecord& r) {
         r.client_ip = "::1";
         r.tls = true;
         r.host = {};
       },
       [](const nlohmann::json& j) {
         CHECK(j["ClientAddr"] == "[::1]:51234");
         CHECK(j["RequestScheme"] == "https");
         CHECK_FALSE(j.contains("RequestHost"));
       }},
      {"hostile path and a whole-second start",
       [](proxy::RequestRecord& r) {
         r.path = "/\"<script>&\\\n\x01";
         r.start = std::chrono::system_clock::time_point(std::chrono::seconds{1704164645});
       },
       [](const nlohmann::json& j) {
         CHECK(j["RequestPath"] == "/\"<script>&\\\n\x01");
         CHECK(j["StartUTC"] == "2024-01-02T03:04:05Z");
       }},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto record = routed_record();
      c.change(record);
      const std::string text = line(record, proxy::AccessLogFormat::json);
      REQUIRE(text.back() == '\n');
      CHECK(text.find('\n') == text.size() - 1);
      CHECK(text.find('<') == std::string::npos);
      c.check(nlohmann::json::parse(text));
    }
  }
}

TEST_CASE("the access log writer appends every line of every producer to the file") {
  const auto path = temp_file("writer");
  {
    proxy::AccessLog log({path.string(), proxy::AccessLogFormat::common}, 3);
    std::vector<std::thread> producers;
    for (unsigned p = 0; p < 3; ++p) {
      producers.emplace_back([&log, p] {
        auto record = routed_record();
        for (int i = 0; i < 500; ++i) {
          record.request_count = p * 1000 + static_cast<unsigned>(i);
          log.write(p, record);
        }
      });
    }
    for (auto& producer : producers) producer.join();
    log.flush();
    CHECK(log.dropped() == 0);
    CHECK(log.written() == 1500);
    const std::string text = read_file(path);
    CHECK(static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')) == log.written());
  }
  // Lines are whole: every one ends as a common line does.
  std::ifstream in(path);
  std::string one;
  int lines = 0;
  while (std::getline(in, one)) {
    ++lines;
    CHECK(one.starts_with("10.0.0.1 - - ["));
    CHECK(one.ends_with(" 12ms"));
  }
  CHECK(lines > 0);
  std::filesystem::remove_all(path.parent_path().parent_path());
}

TEST_CASE("a writer that cannot keep up drops lines and counts them, never blocking") {
  // A pipe nobody reads yet: the writer blocks once it is full, then the ring fills.
  std::array<int, 2> pipe_ends{};
  REQUIRE(::pipe(pipe_ends.data()) == 0);
  const std::string path = "/proc/self/fd/" + std::to_string(pipe_ends[1]);
  auto log = std::make_unique<proxy::AccessLog>(
      proxy::AccessLogOptions{path, proxy::AccessLogFormat::common, 4096, 1ms}, 1);
  ::close(pipe_ends[1]);
  const auto started = std::chrono::steady_clock::now();
  const auto record = routed_record();
  for (int i = 0; i < 3000; ++i) log->write(0, record);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(log->dropped() > 0);
  CHECK(log->dropped() + log->written() == 3000);

  std::size_t received = 0;
  std::thread reader([&] {
    std::array<char, 4096> chunk{};
    for (;;) {
      const auto n = ::read(pipe_ends[0], chunk.data(), chunk.size());
      if (n <= 0) return;
      received += static_cast<std::size_t>(std::count(chunk.begin(), chunk.begin() + n, '\n'));
    }
  });
  const auto written = log->written();
  log.reset();  // drains what is queued, then closes the pipe
  reader.join();
  ::close(pipe_ends[0]);
  CHECK(received == written);
}
