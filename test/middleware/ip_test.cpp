#include <catch2/catch.hpp>

#include "support.hpp"

namespace berth::middleware::test {

TEST_CASE("ipAllowList admits the listed sources only", "[middleware][ip]") {
  struct Case {
    const char* what;
    config::StringList ranges;
    std::optional<config::IpStrategy> strategy;
    const char* peer;
    const char* xff;  // X-Forwarded-For, "" for none
    bool allowed;
  };
  const Case cases[] = {
      {"exact address", {"192.0.2.10"}, std::nullopt, "192.0.2.10", "", true},
      {"other address", {"192.0.2.11"}, std::nullopt, "192.0.2.10", "", false},
      {"IPv4 CIDR", {"10.0.0.0/8"}, std::nullopt, "10.20.30.40", "", true},
      {"outside CIDR", {"10.0.0.0/8"}, std::nullopt, "11.0.0.1", "", false},
      {"/0 holds every IPv4", {"0.0.0.0/0"}, std::nullopt, "8.8.8.8", "", true},
      {"IPv6 CIDR", {"2001:db8::/32"}, std::nullopt, "2001:db8:1::5", "", true},
      {"IPv6 range never holds IPv4", {"::/0"}, std::nullopt, "1.2.3.4", "", false},
      {"X-Forwarded-For ignored without strategy",
       {"1.1.1.1"},
       std::nullopt,
       "192.0.2.10",
       "1.1.1.1",
       false},
      {"depth 1 takes the rightmost",
       {"1.1.1.1"},
       config::IpStrategy{1, {}, 0},
       "192.0.2.10",
       "9.9.9.9, 1.1.1.1",
       true},
      {"depth 2",
       {"9.9.9.9"},
       config::IpStrategy{2, {}, 0},
       "192.0.2.10",
       "9.9.9.9, 1.1.1.1",
       true},
      {"depth beyond the list",
       {"9.9.9.9"},
       config::IpStrategy{3, {}, 0},
       "192.0.2.10",
       "9.9.9.9, 1.1.1.1",
       false},
      {"excludedIPs skips proxies",
       {"9.9.9.9"},
       config::IpStrategy{0, {"1.1.1.0/24"}, 0},
       "192.0.2.10",
       "9.9.9.9, 1.1.1.1,1.1.1.2",
       true},
      {"all excluded",
       {"192.0.2.10"},
       config::IpStrategy{0, {"1.1.1.0/24"}, 0},
       "192.0.2.10",
       "1.1.1.1",
       false},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      config::IpAllowList allow;
      allow.source_range = c.ranges;
      allow.ip_strategy = c.strategy;
      auto chain = single(allow);
      Exchange ex{request("/")};
      ex.client_ip = c.peer;
      if (*c.xff != '\0') ex.request.set("X-Forwarded-For", c.xff);
      const auto decision = ex.run(*chain);
      if (c.allowed) {
        CHECK(proceeds(decision));
      } else {
        const auto& response = responded(decision).response;
        CHECK(response.result() == http::status::forbidden);
        CHECK(response.body() == "Forbidden");
      }
    }
  }
}

TEST_CASE("ipAllowList rejectStatusCode", "[middleware][ip]") {
  config::IpAllowList allow;
  allow.source_range = {"10.0.0.1"};
  allow.reject_status_code = 404;
  auto chain = single(allow);
  Exchange ex{request("/")};
  CHECK(responded(ex.run(*chain)).response.result() == http::status::not_found);
}

TEST_CASE("ipAllowList rejects bad options", "[middleware][ip]") {
  struct Case {
    config::StringList ranges;
    std::optional<config::IpStrategy> strategy;
    std::int64_t reject;
    const char* error;
  };
  const Case cases[] = {
      {{}, std::nullopt, 0, "sourceRange is empty"},
      {{"10.0.0.0/33"}, std::nullopt, 0, "invalid CIDR \"10.0.0.0/33\""},
      {{"not-an-ip"}, std::nullopt, 0, "invalid IP address or CIDR \"not-an-ip\""},
      {{"10.0.0.0/x"}, std::nullopt, 0, "invalid CIDR"},
      {{"10.0.0.1"}, config::IpStrategy{0, {"bad"}, 0}, 0, "excludedIPs"},
      {{"10.0.0.1"}, config::IpStrategy{-1, {}, 0}, 0, "depth must not be negative"},
      {{"10.0.0.1"}, std::nullopt, 42, "rejectStatusCode 42"},
      {{"10.0.0.1"}, config::IpStrategy{0, {}, 64}, 0, "ipv6Subnet is not supported"},
  };
  for (const auto& c : cases) {
    config::IpAllowList allow;
    allow.source_range = c.ranges;
    allow.ip_strategy = c.strategy;
    allow.reject_status_code = c.reject;
    CHECK_THAT(build_error(allow), Catch::Contains(c.error));
  }
}

}  // namespace berth::middleware::test
