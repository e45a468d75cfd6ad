// Compiles the input as a rule; when it compiles, matches it against fixed requests and checks that
// required_hosts() never excludes a host the rule matches. Dictionary: fuzz/rule_parser.dict.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "berth/rules/rule.hpp"

namespace {

using berth::rules::HeaderField;
using berth::rules::IpAddress;
using berth::rules::RequestView;

constexpr std::array<HeaderField, 4> fields{{
    {"Accept", "application/json"},
    {"X-Env", "prod"},
    {"x-env", "dev"},
    {"Content-Type", "text/html; charset=utf-8"},
}};

const std::array<RequestView, 5>& requests() {
  static const std::array<RequestView, 5> all{{
      {"GET", "example.com", "/", "", fields, IpAddress::parse("192.0.2.10")},
      {"POST", "API.Example.com:8443", "/api/v1/users", "q=a+b&mobile", fields,
       IpAddress::parse("2001:db8::1")},
      {"get",
       "[::1]:80",
       "/a%2fb/caf%C3%A9/%41%zz",
       "x=%zz;&q=%41&=&&k",
       {},
       IpAddress::parse("::ffff:10.0.0.1")},
      {"DELETE", "a.example.com.", "/index.php", "page=2&page=3", fields, std::nullopt},
      {"", "", "", "", {}, std::nullopt},
  }};
  return all;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  return out;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto compiled = berth::rules::compile(text);
  if (const auto* error = std::get_if<berth::rules::RuleError>(&compiled)) {
    if (error->position > size || error->message.empty()) std::abort();
    return 0;
  }
  const auto& rule = std::get<berth::rules::Rule>(compiled);
  const auto& hosts = rule.required_hosts();
  for (const RequestView& request : requests()) {
    if (!rule.matches(request) || hosts.empty()) continue;
    const std::string host = lower(berth::rules::routing_host(request.host));
    if (!std::binary_search(hosts.begin(), hosts.end(), host)) std::abort();
  }
  return 0;
}
