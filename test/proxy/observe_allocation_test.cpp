// The per-request observation allocates nothing in steady state: counting into a worker's table
// and queueing an access log line (both formats) once names are interned and buffers have grown.
// Nor does the read an idle keep-alive connection waits with, once a block was freed.

#include <catch2/catch.hpp>

#include "berth/proxy/access_log.hpp"
#include "metrics_table.hpp"
#include "support/allocation_counter.hpp"
#include "worker.hpp"

using namespace berth;

namespace {

void count_request(proxy::MetricsTable& table, unsigned code) {
  const std::uint32_t names[] = {table.intern("web"), table.intern("app@docker"),
                                 table.intern("app@docker")};
  const proxy::Scope scopes[] = {proxy::Scope::entry_point, proxy::Scope::router,
                                 proxy::Scope::service};
  for (std::size_t i = 0; i < 3; ++i) {
    table.open(scopes[i], names[i], 1, proxy::Protocol::http, 1);
    table.record(scopes[i], names[i], code, 1, proxy::Protocol::http, 10, 100, 0.002);
    table.open(scopes[i], names[i], 1, proxy::Protocol::http, -1);
  }
}

/// Allocations made by 1,000 more writes of `record`.
std::size_t allocations_of_writes(proxy::AccessLog& log, const proxy::RequestRecord& record) {
  return berth::test::count_allocations([&] {
    for (int i = 0; i < 1000; ++i) log.write(0, record);
  });
}

}  // namespace

TEST_CASE("counting a request of a known series allocates nothing") {
  proxy::MetricsTable table;
  count_request(table, 200);
  count_request(table, 404);
  CHECK(berth::test::count_allocations([&] {
          for (int i = 0; i < 1000; ++i) count_request(table, i % 2 == 0 ? 200 : 404);
        }) == 0);
  proxy::MetricsSnapshot snapshot;
  table.collect(snapshot);
  REQUIRE(snapshot.requests.size() == 6);
  std::uint64_t total = 0;
  for (const auto& series : snapshot.requests) total += series.requests;
  CHECK(total == 3 * 1002);
  // A new series does allocate: the counter sees allocations at all.
  CHECK(berth::test::count_allocations([&] { count_request(table, 500); }) > 0);
}

TEST_CASE("queueing an access log line allocates nothing once the buffer has grown") {
  for (const auto format : {proxy::AccessLogFormat::common, proxy::AccessLogFormat::json}) {
    proxy::AccessLog log({"/dev/null", format}, 1);
    proxy::RequestRecord record;
    record.client_ip = "10.0.0.1";
    record.method = "GET";
    record.path = "/some/path?with=query";
    record.protocol = "HTTP/1.1";
    record.host = "app.example";
    record.status = 200;
    record.user_agent = "Mozilla/5.0 (X11; Linux x86_64)";
    record.entry_point = "web";
    record.router = record.service = "app@docker";
    record.server_url = "http://172.18.0.3:80";
    record.start = std::chrono::system_clock::now();
    log.write(0, record);
    CHECK(allocations_of_writes(log, record) == 0);
    log.flush();
    CHECK(log.written() + log.dropped() == 1001);
  }
}

TEST_CASE("a line the filters drop allocates nothing; kept headers allocate nothing either") {
  proxy::RequestRecord record;
  record.client_ip = "10.0.0.1";
  record.method = "GET";
  record.path = "/";
  record.protocol = "HTTP/1.1";
  record.status = 200;
  record.start = std::chrono::system_clock::now();
  const std::vector<proxy::HeaderField> headers = {
      {"user-agent", "Mozilla/5.0"}, {"accept", "*/*"}, {"authorization", "Basic x"}};
  record.request_headers = headers;
  record.downstream_headers = headers;

  proxy::AccessLogOptions filtered{"/dev/null", proxy::AccessLogFormat::json};
  filtered.filters.status_codes = {{500, 599}};
  filtered.filters.min_duration = std::chrono::seconds{1};
  proxy::AccessLog dropping(filtered, 1);
  CHECK(allocations_of_writes(dropping, record) == 0);
  CHECK(dropping.written() == 0);

  proxy::AccessLogOptions showing{"/dev/null", proxy::AccessLogFormat::json};
  showing.fields.headers_default_mode = proxy::FieldMode::keep;
  showing.fields.headers = {{"Authorization", proxy::FieldMode::redact}};
  proxy::AccessLog log(showing, 1);
  log.write(0, record);
  CHECK(allocations_of_writes(log, record) == 0);
  log.flush();
  CHECK(log.written() + log.dropped() == 1001);
}

TEST_CASE("the wait of an idle connection reuses a block, and a larger one comes from the heap") {
  middleware::BlockPool blocks(256, 4);
  using Wait = std::array<char, 200>;
  proxy::IdleWaitAllocator<Wait> allocator(blocks);
  Wait* const first = allocator.allocate(1);
  allocator.deallocate(first, 1);
  bool reused = true;
  CHECK(berth::test::count_allocations([&] {
          for (int i = 0; i < 1000; ++i) {
            Wait* wait = allocator.allocate(1);
            reused = reused && wait == first;
            allocator.deallocate(wait, 1);
          }
        }) == 0);
  CHECK(reused);
  proxy::IdleWaitAllocator<std::array<char, 257>> larger(blocks);
  CHECK(berth::test::count_allocations([&] { larger.deallocate(larger.allocate(1), 1); }) == 1);
}
