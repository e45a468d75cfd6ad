#pragma once
// A request for rule tests: owns nothing (string literals), builds the RequestView a proxy would.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/rules/rule.hpp"

namespace berth::rules::test {

struct Request {
  std::string_view method = "GET";
  std::string_view host = "example.com";
  std::string_view path = "/";
  std::string_view query{};
  std::vector<HeaderField> headers{};
  std::string_view peer = "192.0.2.10";  ///< "" for no peer address

  RequestView view() const {
    return RequestView{method, host, path, query, headers, IpAddress::parse(peer)};
  }
};

inline Rule must_compile(std::string_view text) {
  auto result = compile(text);
  if (const auto* error = std::get_if<RuleError>(&result)) {
    FAIL("compile(" << text << ") failed: " << error->to_string());
  }
  return std::get<Rule>(std::move(result));
}

}  // namespace berth::rules::test
