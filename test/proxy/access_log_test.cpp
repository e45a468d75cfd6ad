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

/// Traefik's defaults but for User-Agent and Referer, which the common lines below show.
proxy::AccessLogFields with_agent() {
  proxy::AccessLogFields fields;
  fields.headers = {{"User-Agent", proxy::FieldMode::keep}, {"Referer", proxy::FieldMode::keep}};
  return fields;
}

std::string line(const proxy::RequestRecord& record, proxy::AccessLogFormat format,
                 const proxy::AccessLogFields& fields = with_agent()) {
  std::string out;
  proxy::format_access_line(record, format, proxy::LineFields(fields), out);
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

TEST_CASE("filters keep a line when any configured filter matches it") {
  struct Case {
    std::string name;
    proxy::AccessLogFilters filters;
    unsigned status;
    std::uint64_t retries;
    std::chrono::nanoseconds duration;
    bool kept;
  };
  const proxy::AccessLogFilters codes{{{200, 200}, {300, 302}}, false, {}};
  const proxy::AccessLogFilters retried{{}, true, {}};
  const proxy::AccessLogFilters slow{{}, false, 10ms};
  const proxy::AccessLogFilters errors_or_slow{{{500, 599}}, false, 10ms};
  const std::vector<Case> cases = {
      {"no filter keeps every line", {}, 500, 0, 1ms, true},
      {"a single code", codes, 200, 0, 1ms, true},
      {"the first code of a range", codes, 300, 0, 1ms, true},
      {"the last code of a range", codes, 302, 0, 1ms, true},
      {"past the range", codes, 303, 0, 1ms, false},
      {"another code", codes, 404, 0, 1ms, false},
      {"retried", retried, 200, 1, 1ms, true},
      {"not retried", retried, 200, 0, 1ms, false},
      {"longer than minDuration", slow, 200, 0, 11ms, true},
      {"exactly minDuration is not longer", slow, 200, 0, 10ms, false},
      {"any filter: a fast error", errors_or_slow, 502, 0, 1ms, true},
      {"any filter: a slow success", errors_or_slow, 200, 0, 20ms, true},
      {"any filter: a fast success", errors_or_slow, 200, 0, 1ms, false},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto record = routed_record();
      record.status = c.status;
      record.retry_attempts = c.retries;
      record.duration = c.duration;
      CHECK(c.filters.keeps(record) == c.kept);
    }
  }
}

TEST_CASE("fields: a dropped field leaves the JSON line and is \"-\" in a common line") {
  const UtcZone utc;
  struct Case {
    std::string name;
    proxy::AccessLogFields fields;
    std::vector<std::string> absent;  ///< JSON keys
    std::vector<std::string> present;
    std::string common;
  };
  using proxy::FieldMode;
  const std::vector<Case> cases = {
      {"Traefik's defaults: every field, no header",
       {},
       {"request_User-Agent"},
       {"ClientHost", "ClientUsername", "RequestPath", "StartUTC", "entryPointName"},
       "10.0.0.1 - - [02/Jan/2024:03:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42 \"-\" \"-\" 7 "
       "\"app@docker\" \"http://10.0.0.2:80\" 12ms\n"},
      {"one field dropped, by a name in another case",
       {FieldMode::keep, {{"clienthost", FieldMode::drop}, {"RouterName", FieldMode::drop}}},
       {"ClientHost", "RouterName"},
       {"ClientAddr", "ServiceName"},
       "- - - [02/Jan/2024:03:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42 \"-\" \"-\" 7 \"-\" "
       "\"http://10.0.0.2:80\" 12ms\n"},
      {"every field dropped but the path",
       {FieldMode::drop, {{"RequestPath", FieldMode::keep}}},
       {"ClientAddr", "Duration", "StartUTC", "StartLocal", "entryPointName", "RetryAttempts"},
       {"RequestPath", "level", "msg", "time"},
       "- - - [-] \"- /a?b=1 -\" - - \"-\" \"-\" - \"-\" \"-\" 0ms\n"},
      {"the UTC start dropped: the local one is used",
       {FieldMode::keep, {{"StartUTC", FieldMode::drop}}},
       {"StartUTC"},
       {"StartLocal"},
       "10.0.0.1 - - [02/Jan/2024:03:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42 \"-\" \"-\" 7 "
       "\"app@docker\" \"http://10.0.0.2:80\" 12ms\n"},
      {"User-Agent redacted, Referer kept",
       {FieldMode::keep,
        {},
        FieldMode::drop,
        {{"user-agent", FieldMode::redact}, {"REFERER", FieldMode::keep}}},
       {},
       {},
       "10.0.0.1 - - [02/Jan/2024:03:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42 "
       "\"http://from/\" \"REDACTED\" 7 \"app@docker\" \"http://10.0.0.2:80\" 12ms\n"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto record = routed_record();
      record.referer = "http://from/";
      const auto json = nlohmann::json::parse(line(record, proxy::AccessLogFormat::json, c.fields));
      for (const auto& key : c.absent) CHECK_FALSE(json.contains(key));
      for (const auto& key : c.present) CHECK(json.contains(key));
      CHECK(line(record, proxy::AccessLogFormat::common, c.fields) == c.common);
    }
  }
}

TEST_CASE("headers: request_ and downstream_ fields under Go's canonical names") {
  const UtcZone utc;
  using proxy::FieldMode;
  const std::vector<proxy::HeaderField> request_headers = {
      {"user-agent", "curl/8.0"}, {"X-CUSTOM", "a"},    {"Authorization", "Basic secret"},
      {"accept", "*/*"},          {"x-custom", "b\"c"}, {"cookie", "s=1"}};
  const std::vector<proxy::HeaderField> response_headers = {{"content-type", "text/plain"},
                                                            {"Set-Cookie", "id=2"}};
  struct Case {
    std::string name;
    proxy::AccessLogFields fields;
    nlohmann::json expected;  ///< the header keys of the line
  };
  const std::vector<Case> cases = {
      {"dropped by default", {}, nlohmann::json::object()},
      {"kept by default but those named",
       {FieldMode::keep,
        {},
        FieldMode::keep,
        {{"authorization", FieldMode::redact},
         {"Accept", FieldMode::drop},
         {"set-cookie", FieldMode::redact},
         {"Cookie", FieldMode::drop}}},
       {{"request_User-Agent", "curl/8.0"},
        {"request_X-Custom", "a,b\"c"},
        {"request_Authorization", "REDACTED"},
        {"downstream_Content-Type", "text/plain"},
        {"downstream_Set-Cookie", "REDACTED"}}},
      {"dropped by default but one",
       {FieldMode::keep, {}, FieldMode::drop, {{"Content-Type", FieldMode::keep}}},
       {{"downstream_Content-Type", "text/plain"}}},
      {"redacted by default",
       {FieldMode::keep, {}, FieldMode::redact, {{"user-agent", FieldMode::keep}}},
       {{"request_User-Agent", "curl/8.0"},
        {"request_X-Custom", "REDACTED"},
        {"request_Authorization", "REDACTED"},
        {"request_Accept", "REDACTED"},
        {"request_Cookie", "REDACTED"},
        {"downstream_Content-Type", "REDACTED"},
        {"downstream_Set-Cookie", "REDACTED"}}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto record = routed_record();
      record.request_headers = request_headers;
      record.downstream_headers = response_headers;
      const std::string text = line(record, proxy::AccessLogFormat::json, c.fields);
      const auto json = nlohmann::json::parse(text);
      nlohmann::json headers = nlohmann::json::object();
      for (const auto& [key, value] : json.items()) {
        if (key.starts_with("request_") || key.starts_with("downstream_")) headers[key] = value;
      }
      CHECK(headers == c.expected);
      // Keys in Go's order: each key's position in the text grows with the key.
      std::vector<std::string> keys;
      for (const auto& [key, value] : json.items()) keys.push_back(key);
      std::vector<std::size_t> positions;
      for (const auto& key : keys) positions.push_back(text.find("\"" + key + "\":"));
      CHECK(std::is_sorted(positions.begin(), positions.end()));
    }
  }
}

TEST_CASE("the writer writes only the lines the filters keep") {
  const auto path = temp_file("filters");
  {
    proxy::AccessLogOptions options{path.string(), proxy::AccessLogFormat::common};
    options.filters.status_codes = {{500, 599}};
    proxy::AccessLog log(options, 1);
    auto record = routed_record();
    for (const unsigned status : {200U, 502U, 404U, 503U}) {
      record.status = status;
      CHECK(log.keeps(record) == (status >= 500));
      log.write(0, record);
    }
    log.flush();
    CHECK(log.written() == 2);
    CHECK(log.dropped() == 0);
  }
  const std::string text = read_file(path);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(text.find("\" 502 42 ") != std::string::npos);
  CHECK(text.find("\" 503 42 ") != std::string::npos);
  std::filesystem::remove_all(path.parent_path().parent_path());
}
