// Rule::matches must not allocate: this executable counts every operator new while it matches.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "berth/rules/path_index.hpp"
#include "berth/rules/rule.hpp"
#include "request.hpp"
#include "support/allocation_counter.hpp"

using berth::rules::HeaderField;
using berth::rules::Rule;
using berth::rules::test::must_compile;
using berth::rules::test::Request;

TEST_CASE("matching allocates nothing, whatever the matchers") {
  const std::vector<Rule> rules = {
      must_compile("Host(`example.com`) && PathPrefix(`/api`)"),
      must_compile("Host(`*.example.com`) || Host(`*`)"),
      must_compile("HostRegexp(`^[a-z]+\\.example\\.com$`)"),
      must_compile("Path(`/a b`) || PathRegexp(`^/a%2Fb$`) || PathRegexp(`\\.php$`)"),
      must_compile("Method(`GET`) && !Header(`X-Env`, `prod`)"),
      must_compile("HeaderRegexp(`Accept`, `json`)"),
      must_compile("Query(`q`, `a b`) || QueryRegexp(`q`, `^a b$`) || Query(`mobile`)"),
      must_compile("ClientIP(`192.0.2.0/24`) || ClientIP(`2001:db8::/32`)"),
  };
  const std::vector<HeaderField> fields = {{"Accept", "application/json"}, {"X-Env", "dev"}};
  const std::vector<Request> requests = {
      {.host = "Example.COM:443", .path = "/api/x", .headers = fields},
      {.host = "API.example.com", .path = "/a%20b", .query = "q=a+b&mobile"},
      {.method = "POST",
       .host = "[::1]:8080",
       .path = "/a%2fb",
       .query = "q=a%20b",
       .peer = "2001:db8::1"},
      {.path = "/index.php", .query = "x=%zz;&q=", .peer = ""},
  };

  std::vector<bool> warm;
  std::vector<bool> measured;
  warm.reserve(rules.size() * requests.size());
  measured.reserve(rules.size() * requests.size());
  std::vector<berth::rules::RequestView> views;
  views.reserve(requests.size());
  for (const Request& request : requests) views.push_back(request.view());

  // RE2 fills its DFA cache on first use; that is RE2's own, bounded memory.
  for (const Rule& rule : rules) {
    for (const auto& view : views) warm.push_back(rule.matches(view));
  }
  const std::size_t allocations = berth::test::count_allocations([&] {
    for (const Rule& rule : rules) {
      for (const auto& view : views) measured.push_back(rule.matches(view));
    }
  });
  CHECK(allocations == 0);
  CHECK(measured == warm);
  // The requests do exercise both outcomes.
  CHECK(std::count(measured.begin(), measured.end(), true) > 5);
  CHECK(std::count(measured.begin(), measured.end(), false) > 5);
}

TEST_CASE("the allocation counter sees allocations") {
  std::vector<std::string> sink;
  CHECK(berth::test::count_allocations([&] { sink.emplace_back(100, 'x'); }) >= 1);
}

TEST_CASE("looking up the path index allocates nothing") {
  const berth::rules::PathPrefixIndex index({{"/", 0}, {"/api", 1}, {"/api/v2", 2}, {"/a b", 3}});
  std::size_t found = 0;
  const std::size_t allocations = berth::test::count_allocations([&] {
    for (std::string_view path : {"/api/v2/users", "/a%20b", "/other", ""}) {
      found += index.candidates(path).size();
    }
  });
  CHECK(allocations == 0);
  CHECK(found == 3 + 2 + 1);
}
