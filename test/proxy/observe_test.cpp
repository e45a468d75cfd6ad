// Request metrics and the access log, driven by real requests through an in-process proxy. The
// metrics are read the way Prometheus reads them: rendered as /metrics renders them, then parsed.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <boost/beast/websocket/stream.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../runtime/test_config.hpp"
#include "backend.hpp"
#include "berth/api/metrics.hpp"
#include "berth/config/static.hpp"
#include "berth/proxy/server.hpp"
#include "metrics.hpp"
#include "proxy_fixture.hpp"

using namespace berth;
using namespace std::chrono_literals;
using proxy::test::Backend;
using proxy::test::Client;
using proxy::test::Request;
using proxy::test::Response;
namespace http = proxy::test::http;
namespace net = proxy::test::net;
namespace beast = proxy::test::beast;

namespace {

// ---------------------------------------------------------------------------------------------
// A small parser of the Prometheus text format (0.0.4): enough to check what a scraper sees.

using LabelSet = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  LabelSet labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  ///< family -> type
  std::vector<Sample> samples;

  /// The value of the sample with exactly these labels; NaN when there is none.
  double value(const std::string& name, const LabelSet& labels) const {
    for (const Sample& sample : samples) {
      if (sample.name == name && sample.labels == labels) return sample.value;
    }
    return std::nan("");
  }
  std::vector<const Sample*> named(const std::string& name) const {
    std::vector<const Sample*> out;
    for (const Sample& sample : samples) {
      if (sample.name == name) out.push_back(&sample);
    }
    return out;
  }
};

double parse_number(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return std::nan("");
  std::size_t used = 0;
  const double value = std::stod(text, &used);
  if (used != text.size()) throw std::runtime_error("bad number: " + text);
  return value;
}

/// The family a sample belongs to, given the declared types (histogram suffixes stripped).
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view s(suffix);
    if (name.ends_with(s)) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

Exposition parse_exposition(const std::string& text) {
  Exposition out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    REQUIRE(!line.empty());
    if (line.starts_with("# HELP ")) continue;
    if (line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name;
      std::string type;
      words >> name >> type;
      REQUIRE(out.types.count(name) == 0);  // one TYPE per family
      out.types[name] = type;
      continue;
    }
    REQUIRE(line.front() != '#');
    Sample sample;
    std::size_t at = line.find_first_of("{ ");
    REQUIRE(at != std::string::npos);
    sample.name = line.substr(0, at);
    if (line[at] == '{') {
      ++at;
      while (line[at] != '}') {
        const auto equals = line.find('=', at);
        REQUIRE(equals != std::string::npos);
        const std::string label = line.substr(at, equals - at);
        REQUIRE(line[equals + 1] == '"');
        std::string value;
        std::size_t i = equals + 2;
        for (; line[i] != '"'; ++i) {
          if (line[i] == '\\') {
            ++i;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        REQUIRE(sample.labels.emplace(label, value).second);
        at = i + 1;
        if (line[at] == ',') ++at;
      }
      ++at;
    }
    REQUIRE(line[at] == ' ');
    sample.value = parse_number(line.substr(at + 1));
    // Every sample belongs to a family whose TYPE came first.
    REQUIRE(out.types.count(family_of(sample.name, out.types)) == 1);
    out.samples.push_back(std::move(sample));
  }
  return out;
}

/// Every histogram: cumulative buckets ending in +Inf, +Inf == _count, a _sum, per label set.
void check_histograms(const Exposition& exposition) {
  for (const auto& [family, type] : exposition.types) {
    if (type != "histogram") continue;
    std::map<LabelSet, std::vector<std::pair<double, double>>> buckets;  // le -> count
    for (const Sample* bucket : exposition.named(family + "_bucket")) {
      LabelSet labels = bucket->labels;
      const double le = parse_number(labels.at("le"));
      labels.erase("le");
      buckets[labels].emplace_back(le, bucket->value);
    }
    REQUIRE(!buckets.empty());
    for (auto& [labels, counts] : buckets) {
      std::sort(counts.begin(), counts.end());
      CHECK(std::isinf(counts.back().first));
      for (std::size_t i = 1; i < counts.size(); ++i)
        CHECK(counts[i - 1].second <= counts[i].second);
      CHECK(exposition.value(family + "_count", labels) == counts.back().second);
      CHECK(exposition.value(family + "_sum", labels) >= 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The proxy under test

proxy::ServerOptions observed_options() {
  proxy::ServerOptions options = proxy::test::test_server_options();
  options.metrics = {true, true, true, true};
  return options;
}

/// The proxy fixture, scraped as /metrics renders its tables.
class Proxy : public proxy::test::Proxy {
 public:
  explicit Proxy(proxy::ServerOptions options = observed_options())
      : proxy::test::Proxy(std::move(options)) {}

  /// What a scrape of /metrics returns now, parsed.
  Exposition scrape() {
    const auto families = app::request_families(server().collect_metrics(500ms), options().metrics,
                                                options().access_log.has_value());
    return parse_exposition(api::render_metrics(api::State{}, families));
  }

  /// Scrapes until `done` holds (a request is counted once its worker has finished it).
  Exposition scrape_until(const std::function<bool(const Exposition&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    Exposition exposition = scrape();
    while (!done(exposition) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      exposition = scrape();
    }
    return exposition;
  }
};

config::Configuration routed_to(const Backend& backend) {
  config::Configuration c;
  c.http.services["svc@test"] = runtime::test::load_balancer({{backend.url(), 1}}, false);
  c.http.routers["app@test"] = runtime::test::router("Host(`app`)", "svc");
  return c;
}

Request post(std::string body) {
  Request request{http::verb::post, "/", 11};
  request.set(http::field::host, "app");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

LabelSet requests(const std::string& scope, const std::string& name, const std::string& code,
                  const std::string& method, const std::string& protocol = "http") {
  return {{"code", code}, {"method", method}, {"protocol", protocol}, {scope, name}};
}

LabelSet open(const std::string& scope, const std::string& name, const std::string& method,
              const std::string& protocol) {
  return {{"method", method}, {"protocol", protocol}, {scope, name}};
}

using WebSocket = beast::websocket::stream<proxy::test::tcp::socket>;

std::filesystem::path temp_log(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("berth-observe-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir / "access.log";
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("request metrics count what was sent, by code, method, protocol and scope") {
  Backend a("A", [](const Request& request, Response& response, std::size_t) {
    if (request.target() == "/missing") response.result(http::status::not_found);
    return true;
  });
  Proxy proxy;
  proxy.publish(routed_to(a));
  Client client(proxy.port());
  for (int i = 0; i < 5; ++i) CHECK(client.request(proxy::test::get("/")).body() == "A");
  for (int i = 0; i < 3; ++i) {
    CHECK(client.request(proxy::test::get("/missing")).result() == http::status::not_found);
  }
  for (int i = 0; i < 2; ++i) CHECK(client.request(post("hello")).body() == "A");
  for (int i = 0; i < 4; ++i) {
    CHECK(client.request(proxy::test::get("/", "unknown")).result() == http::status::not_found);
  }

  const auto m = proxy.scrape_until([](const Exposition& e) {
    return e.value("traefik_entrypoint_requests_total",
                   requests("entrypoint", "web", "404", "GET")) == 7;
  });
  CHECK(m.types.at("traefik_entrypoint_requests_total") == "counter");
  CHECK(m.types.at("traefik_entrypoint_request_duration_seconds") == "histogram");
  CHECK(m.types.at("traefik_entrypoint_open_connections") == "gauge");
  CHECK(m.types.at("traefik_service_requests_bytes_total") == "counter");
  CHECK(m.types.at("traefik_service_responses_bytes_total") == "counter");

  const std::string ep = "traefik_entrypoint_requests_total";
  CHECK(m.value(ep, requests("entrypoint", "web", "200", "GET")) == 5);
  CHECK(m.value(ep, requests("entrypoint", "web", "404", "GET")) == 7);  // 3 relayed, 4 unrouted
  CHECK(m.value(ep, requests("entrypoint", "web", "200", "POST")) == 2);
  CHECK(m.named(ep).size() == 3);
  for (const char* scope : {"service", "router"}) {
    const std::string name = std::string(scope) == "service" ? "svc@test" : "app@test";
    const std::string family = "traefik_" + std::string(scope) + "_requests_total";
    INFO(family);
    CHECK(m.value(family, requests(scope, name, "200", "GET")) == 5);
    CHECK(m.value(family, requests(scope, name, "404", "GET")) == 3);
    CHECK(m.value(family, requests(scope, name, "200", "POST")) == 2);
    CHECK(m.named(family).size() == 3);
  }
  CHECK(m.value("traefik_service_requests_bytes_total",
                requests("service", "svc@test", "200", "POST")) == 10);
  CHECK(m.value("traefik_service_responses_bytes_total",
                requests("service", "svc@test", "200", "GET")) == 5);
  auto le = requests("service", "svc@test", "200", "GET");
  le["le"] = "+Inf";
  CHECK(m.value("traefik_service_request_duration_seconds_bucket", le) == 5);
  le["le"] = "0.1";
  CHECK(m.value("traefik_service_request_duration_seconds_bucket", le) == 5);  // all fast
  check_histograms(m);
  for (const Sample* gauge : m.named("traefik_entrypoint_open_connections")) {
    CHECK(gauge->value == 0);
  }
  CHECK(m.types.count("berth_accesslog_dropped_lines_total") == 0);  // no access log
}

TEST_CASE("router and entry point families follow the Prometheus options") {
  Backend a("A");
  auto options = observed_options();
  options.metrics = {true, false, false, true};
  Proxy proxy(options);
  proxy.publish(routed_to(a));
  Client client(proxy.port());
  CHECK(client.request(proxy::test::get("/")).body() == "A");
  const auto m = proxy.scrape_until([](const Exposition& e) {
    return e.value("traefik_service_requests_total",
                   requests("service", "svc@test", "200", "GET")) == 1;
  });
  CHECK(m.value("traefik_service_requests_total", requests("service", "svc@test", "200", "GET")) ==
        1);
  for (const auto& [family, type] : m.types) {
    CHECK_FALSE(family.starts_with("traefik_router_"));
    CHECK_FALSE(family.starts_with("traefik_entrypoint_"));
  }
}

TEST_CASE("open connections count a WebSocket until it closes, then it is a 101") {
  Backend a("A");
  Proxy proxy;
  proxy.publish(routed_to(a));
  net::io_context ioc;
  auto ws = std::make_unique<WebSocket>(ioc);
  ws->next_layer().connect({net::ip::make_address("127.0.0.1"), proxy.port()});
  ws->handshake("app", "/ws");
  ws->write(net::buffer(std::string("ping")));
  beast::flat_buffer echoed;
  ws->read(echoed);

  const auto during = proxy.scrape();
  const LabelSet tcp{{"entrypoint", "web"}, {"protocol", "TCP"}};
  CHECK(during.value("traefik_open_connections", tcp) == 1);
  CHECK(during.value("traefik_entrypoint_open_connections",
                     open("entrypoint", "web", "GET", "websocket")) == 1);
  CHECK(during.value("traefik_service_open_connections",
                     open("service", "svc@test", "GET", "websocket")) == 1);
  CHECK(during.value("traefik_router_open_connections",
                     open("router", "app@test", "GET", "websocket")) == 1);
  CHECK(std::isnan(during.value("traefik_entrypoint_requests_total",
                                requests("entrypoint", "web", "101", "GET", "websocket"))));

  ws->close(beast::websocket::close_code::normal);
  const auto after = proxy.scrape_until([&tcp](const Exposition& e) {
    return e.value("traefik_entrypoint_open_connections",
                   open("entrypoint", "web", "GET", "websocket")) == 0 &&
           e.value("traefik_open_connections", tcp) == 0;
  });
  CHECK(after.value("traefik_open_connections", tcp) == 0);
  CHECK(after.value("traefik_entrypoint_open_connections",
                    open("entrypoint", "web", "GET", "websocket")) == 0);
  CHECK(after.value("traefik_service_open_connections",
                    open("service", "svc@test", "GET", "websocket")) == 0);
  CHECK(after.value("traefik_service_requests_total",
                    requests("service", "svc@test", "101", "GET", "websocket")) == 1);
  check_histograms(after);
}

TEST_CASE("requests through the proxy produce access log lines in the file") {
  Backend a("A");
  SECTION("common format") {
    const auto path = temp_log("common");
    auto options = observed_options();
    options.access_log = proxy::AccessLogOptions{path.string(), proxy::AccessLogFormat::common};
    // Traefik's common line shows the user agent only when its header is kept.
    options.access_log->fields.headers = {{"User-Agent", proxy::FieldMode::keep}};
    {
      Proxy proxy(options);
      proxy.publish(routed_to(a));
      Client client(proxy.port());
      auto request = proxy::test::get("/hello?x=1");
      request.set(http::field::user_agent, "test-agent");
      CHECK(client.request(request).body() == "A");
      CHECK(client.request(proxy::test::get("/", "unknown")).result() == http::status::not_found);
      const auto m = proxy.scrape_until(
          [](const Exposition& e) { return e.value("berth_accesslog_lines_total", {}) == 2; });
      CHECK(m.value("berth_accesslog_dropped_lines_total", {}) == 0);
      proxy.server().flush_access_log();
      const auto lines = read_lines(path);
      REQUIRE(lines.size() == 2);
      const std::string server = "\"" + a.url() + "\"";
      CHECK(lines[0].starts_with("127.0.0.1 - - ["));
      CHECK(lines[0].find("] \"GET /hello?x=1 HTTP/1.1\" 200 1 \"-\" \"test-agent\" ") !=
            std::string::npos);
      CHECK(lines[0].find(" \"app@test\" " + server + " ") != std::string::npos);
      CHECK(lines[0].ends_with("ms"));
      CHECK(lines[1].find("\"GET / HTTP/1.1\" 404 19 \"-\" \"-\" ") != std::string::npos);
      CHECK(lines[1].find(" \"-\" \"-\" ") != std::string::npos);
    }
    std::filesystem::remove_all(path.parent_path());
  }
  SECTION("JSON format") {
    const auto path = temp_log("json");
    auto options = observed_options();
    options.access_log = proxy::AccessLogOptions{path.string(), proxy::AccessLogFormat::json};
    {
      Proxy proxy(options);
      proxy.publish(routed_to(a));
      Client client(proxy.port());
      CHECK(client.request(post("hello")).body() == "A");
      proxy.scrape_until(
          [](const Exposition& e) { return e.value("berth_accesslog_lines_total", {}) == 1; });
      proxy.server().flush_access_log();
      const auto lines = read_lines(path);
      REQUIRE(lines.size() == 1);
      const auto entry = nlohmann::json::parse(lines[0]);
      CHECK(entry["ClientHost"] == "127.0.0.1");
      CHECK(entry["RequestMethod"] == "POST");
      CHECK(entry["RequestPath"] == "/");
      CHECK(entry["RequestHost"] == "app");
      CHECK(entry["DownstreamStatus"] == 200);
      CHECK(entry["OriginStatus"] == 200);
      CHECK(entry["RequestContentSize"] == 5);
      CHECK(entry["DownstreamContentSize"] == 1);
      CHECK(entry["RouterName"] == "app@test");
      CHECK(entry["ServiceName"] == "svc@test");
      CHECK(entry["ServiceURL"] == a.url());
      CHECK(entry["entryPointName"] == "web");
      CHECK(entry["Duration"].get<std::int64_t>() > 0);
    }
    std::filesystem::remove_all(path.parent_path());
  }
}

TEST_CASE("the access log's filters drop lines and its fields redact headers") {
  Backend a("A", [](const Request&, Response& response, std::size_t) {
    response.set("X-Session", "s3cr3t");
    response.set(http::field::content_type, "text/plain");
    return true;
  });
  const auto path = temp_log("filtered");
  auto options = observed_options();
  options.access_log = proxy::AccessLogOptions{path.string(), proxy::AccessLogFormat::json};
  auto& log = *options.access_log;
  log.filters.status_codes = {{200, 299}};
  log.fields.names = {{"ClientUsername", proxy::FieldMode::drop}};
  log.fields.headers_default_mode = proxy::FieldMode::keep;
  log.fields.headers = {{"authorization", proxy::FieldMode::redact},
                        {"X-Session", proxy::FieldMode::redact},
                        {"Accept", proxy::FieldMode::drop}};
  {
    Proxy proxy(options);
    proxy.publish(routed_to(a));
    Client client(proxy.port());
    auto request = proxy::test::get("/kept");
    request.set(http::field::authorization, "Bearer token");
    request.set(http::field::user_agent, "test-agent");
    request.set(http::field::accept, "text/plain");
    CHECK(client.request(request).result() == http::status::ok);
    // Not in 200-299: no line.
    CHECK(client.request(proxy::test::get("/", "unknown")).result() == http::status::not_found);
    CHECK(client.request(proxy::test::get("/again")).result() == http::status::ok);
    // Every request is counted before its line is queued or filtered.
    proxy.scrape_until([](const Exposition& e) {
      return e.value("traefik_entrypoint_requests_total",
                     requests("entrypoint", "web", "200", "GET")) == 2 &&
             e.value("traefik_entrypoint_requests_total",
                     requests("entrypoint", "web", "404", "GET")) == 1;
    });
    proxy.server().flush_access_log();
    const auto lines = read_lines(path);
    REQUIRE(lines.size() == 2);
    const auto entry = nlohmann::json::parse(lines[0]);
    CAPTURE(lines[0]);
    CHECK(entry["RequestPath"] == "/kept");
    CHECK(entry["DownstreamStatus"] == 200);
    CHECK_FALSE(entry.contains("ClientUsername"));
    CHECK(entry["request_Authorization"] == "REDACTED");
    CHECK(entry["request_User-Agent"] == "test-agent");
    CHECK_FALSE(entry.contains("request_Accept"));
    CHECK_FALSE(entry.contains("request_Host"));
    CHECK(entry["downstream_X-Session"] == "REDACTED");
    CHECK(entry["downstream_Content-Type"] == "text/plain");
    CHECK(lines[0].find("Bearer token") == std::string::npos);
    CHECK(lines[0].find("s3cr3t") == std::string::npos);
    CHECK(nlohmann::json::parse(lines[1])["RequestPath"] == "/again");
  }
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("the retryAttempts filter keeps the lines of retried requests") {
  Backend broken("broken", [](const Request&, Response&, std::size_t) { return false; });
  Backend good("good");
  config::Configuration c;
  c.http.services["svc@test"] =
      runtime::test::load_balancer({{broken.url(), 1}, {good.url(), 1}}, false);
  config::Retry retry;
  retry.attempts = 3;
  retry.initial_interval = 1ms;
  c.http.middlewares["retry@test"] = config::Middleware{retry};
  c.http.routers["app@test"] = runtime::test::router("Host(`app`)", "svc", 0, {}, {"retry"});

  const auto path = temp_log("retried");
  auto options = observed_options();
  options.access_log = proxy::AccessLogOptions{path.string(), proxy::AccessLogFormat::json};
  options.access_log->filters.retry_attempts = true;
  {
    Proxy proxy(options);
    proxy.publish(c);
    Client client(proxy.port());
    for (int i = 0; i < 10; ++i) CHECK(client.request(proxy::test::get("/")).body() == "good");
    proxy.scrape_until([](const Exposition& e) {
      return e.value("traefik_entrypoint_requests_total",
                     requests("entrypoint", "web", "200", "GET")) == 10;
    });
    proxy.server().flush_access_log();
    const auto lines = read_lines(path);
    // Those that met the broken server first (about every other one) were retried once; the
    // others have no line.
    CHECK(lines.size() >= 3);
    CHECK(lines.size() <= 7);
    for (const auto& line : lines) CHECK(nlohmann::json::parse(line)["RetryAttempts"] == 1);
  }
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("the access log and Prometheus flags parse as Traefik's") {
  const auto c = config::parse_static_configuration(
      {"--accesslog=true", "--accesslog.format=json", "--accesslog.filepath=/var/log/a.log",
       "--metrics.prometheus=true", "--metrics.prometheus.addrouterslabels=true"},
      {});
  REQUIRE(c.access_log);
  CHECK(c.access_log->format == "json");
  CHECK(c.access_log->file_path == "/var/log/a.log");
  REQUIRE(c.metrics.prometheus);
  CHECK(c.metrics.prometheus->add_routers_labels);
  CHECK(c.metrics.prometheus->add_services_labels);
  CHECK(c.metrics.prometheus->add_entry_points_labels);
  const auto defaults = config::parse_static_configuration({"--accesslog=true"}, {});
  REQUIRE(defaults.access_log);
  CHECK(defaults.access_log->format == "common");
  CHECK(defaults.access_log->file_path.empty());
}
