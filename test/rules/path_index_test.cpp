#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/rules/path_index.hpp"

using berth::rules::PathPrefixIndex;

namespace {

std::vector<std::uint32_t> candidates(const PathPrefixIndex& index, std::string_view path) {
  const auto found = index.candidates(path);
  return {found.begin(), found.end()};
}

}  // namespace

TEST_CASE("the path index finds every prefix of the routing path, nested ones included") {
  const PathPrefixIndex index({{"/", 9},
                               {"/api", 1},
                               {"/api/v2", 2},
                               {"/apis", 3},
                               {"/api", 4},
                               {"/a b", 5},
                               {"/x%2Fy", 6},
                               {"/api/v2", 1}});
  struct Row {
    std::string_view path;
    std::vector<std::uint32_t> values;
  };
  const auto row = GENERATE(values<Row>({
      {"/", {9}},
      {"/other", {9}},
      {"/ap", {9}},
      {"/api", {1, 4, 9}},
      {"/api/", {1, 4, 9}},
      {"/api/v2/users", {1, 2, 4, 9}},
      {"/apis", {1, 3, 4, 9}},  // a plain string prefix, as Traefik matches it
      {"/API", {9}},
      // The routing path decodes escapes, except those of reserved characters.
      {"/a%20b/c", {5, 9}},
      {"/x%2fy", {6, 9}},
      {"/x/y", {9}},
      {"", {}},
  }));
  CAPTURE(row.path);
  CHECK(candidates(index, row.path) == row.values);
}

TEST_CASE("an empty path index finds nothing") {
  const PathPrefixIndex index;
  CHECK(index.empty());
  CHECK(candidates(index, "/anything").empty());
  CHECK_FALSE(PathPrefixIndex({{"/a", 0}}).empty());
}
