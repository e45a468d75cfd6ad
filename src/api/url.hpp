#pragma once
// The parts of Go's net/url the API's behaviour depends on: path unescaping (with its error text)
// and query parsing (first value wins, '+' is a space, undecodable pairs are skipped).

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace berth::api {

struct UrlError {
  std::string message;  ///< Go's text, e.g. `invalid URL escape "%zz"`
};

/// url.PathUnescape: %XX sequences decoded, '+' kept.
std::variant<std::string, UrlError> path_unescape(std::string_view text);

class Query {
 public:
  explicit Query(std::string_view raw);
  /// The first value of `key`, "" when absent.
  std::string get(std::string_view key) const;
  bool empty() const { return pairs_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

std::string to_lower(std::string_view text);
/// ASCII case-insensitive equality (Go's strings.EqualFold for the values the API compares).
bool equal_fold(std::string_view a, std::string_view b);

}  // namespace berth::api
