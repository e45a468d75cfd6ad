#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "berth/rules/expression.hpp"

using berth::rules::Expression;
using berth::rules::max_nesting_depth;
using berth::rules::parse_expression;
using berth::rules::RuleError;
using Kind = berth::rules::Expression::Kind;
using namespace std::string_view_literals;

namespace {

Expression must_parse(std::string_view text) {
  auto result = parse_expression(text);
  if (const auto* error = std::get_if<RuleError>(&result)) {
    FAIL("parse_expression failed: " << error->to_string());
  }
  return std::get<Expression>(std::move(result));
}

/// The tree in a compact prefix form: and(Host[a],not(Path[/x])).
std::string render(const Expression& e) {
  std::string out;
  switch (e.kind) {
    case Kind::call: {
      out = e.name + "[";
      for (std::size_t i = 0; i < e.args.size(); ++i) out += (i == 0 ? "" : "|") + e.args[i];
      return out + "]";
    }
    case Kind::all_of:
      out = "and(";
      break;
    case Kind::any_of:
      out = "or(";
      break;
    case Kind::negation:
      out = "not(";
      break;
  }
  for (std::size_t i = 0; i < e.operands.size(); ++i) {
    out += (i == 0 ? "" : ",") + render(e.operands[i]);
  }
  return out + ")";
}

std::size_t depth(const Expression& e) {
  std::size_t deepest = 0;
  for (const Expression& operand : e.operands) deepest = std::max(deepest, depth(operand));
  return deepest + 1;
}

struct Shape {
  std::string_view text;
  std::string_view tree;
};

struct Failure {
  std::string_view text;
  std::size_t position;
  std::string_view message;
};

}  // namespace

TEST_CASE("parse_expression builds the tree with && over || and ! binding tightest") {
  const auto row = GENERATE(values<Shape>({
      {"A(`a`)", "A[a]"},
      {"A(`a`) && B(`b`)", "and(A[a],B[b])"},
      {"A(`a`) || B(`b`)", "or(A[a],B[b])"},
      {"A(`a`) || B(`b`) && C(`c`)", "or(A[a],and(B[b],C[c]))"},
      {"A(`a`) && B(`b`) || C(`c`)", "or(and(A[a],B[b]),C[c])"},
      {"(A(`a`) || B(`b`)) && C(`c`)", "and(or(A[a],B[b]),C[c])"},
      {"!A(`a`) && B(`b`)", "and(not(A[a]),B[b])"},
      {"!(A(`a`) && B(`b`))", "not(and(A[a],B[b]))"},
      {"!!A(`a`)", "not(not(A[a]))"},
      {"A(`a`) && B(`b`) && C(`c`)", "and(A[a],and(B[b],C[c]))"},
      {"A(`a`) || B(`b`) || C(`c`) || D(`d`)", "or(or(A[a],B[b]),or(C[c],D[d]))"},
      {"F()", "F[]"},
      {"Label(\"com.example.tier\", \"front\")", "Label[com.example.tier|front]"},
      {"LabelRegex(`k`, `^v.*`)", "LabelRegex[k|^v.*]"},
      {"_x9(`a`,`b`,`c`)", "_x9[a|b|c]"},
      {"\n\tA (\r\n`a` ,\t\"b\" )\n", "A[a|b]"},
      {"((A(`a`)))", "A[a]"},
      {"A(`a`)&&!B(`b`)||C(`c`)", "or(and(A[a],not(B[b])),C[c])"},
  }));
  CAPTURE(row.text);
  CHECK(render(must_parse(row.text)) == row.tree);
}

TEST_CASE("parse_expression records the positions of calls, arguments and operators") {
  const Expression e = must_parse("Host(`a`) && !Path( \"/x\", `y`)");
  REQUIRE(e.kind == Kind::all_of);
  CHECK(e.position == 10);
  const Expression& host = e.operands[0];
  CHECK(host.position == 0);
  CHECK(host.arg_positions == std::vector<std::size_t>{5});
  const Expression& negation = e.operands[1];
  CHECK(negation.position == 13);
  const Expression& path = negation.operands[0];
  CHECK(path.position == 14);
  CHECK(path.arg_positions == std::vector<std::size_t>{20, 26});
}

TEST_CASE("string literals follow Go: raw backticks, escapes in double quotes") {
  struct Literal {
    std::string_view text;
    std::string_view value;
  };
  const auto row = GENERATE(values<Literal>({
      {R"(F(`a\nb`))", R"(a\nb)"},
      {"F(`a\"b`)", "a\"b"},
      {"F(`a\r\nb`)", "a\nb"},
      {"F(`caf\xC3\xA9`)", "caf\xC3\xA9"},
      {R"(F("a\"b"))", "a\"b"},
      {R"(F("a\\b"))", "a\\b"},
      {R"(F("\a\b\f\n\r\t\v"))", "\a\b\f\n\r\t\v"},
      {R"(F("\x41\x7a"))", "Az"},
      {R"(F("\101\040"))", "A "},
      {R"(F("\377"))", "\xFF"},
      {R"(F("\u00e9"))", "\xC3\xA9"},
      {R"(F("\U0001F600"))", "\xF0\x9F\x98\x80"},
      {R"(F("`"))", "`"},
      {R"(F(""))", ""},
      {R"(F(``))", ""},
      {R"(F("a\x00b"))", "a\0b"sv},
  }));
  CAPTURE(row.text);
  const Expression e = must_parse(row.text);
  REQUIRE(e.args.size() == 1);
  CHECK(e.args.front() == row.value);
}

TEST_CASE("parse_expression reports syntax errors with their position") {
  const auto row = GENERATE(values<Failure>({
      {"Host(`a`))", 9, "unexpected ')'"},
      {"(Host(`a`)", 0, "unclosed '('"},
      {"((Host(`a`))", 0, "unclosed '('"},
      {"Host(`a`", 4, "unclosed '('"},
      {"Host(`a`,", 4, "unclosed '('"},
      {"Host(", 4, "unclosed '('"},
      {"Host(`a)", 5, "unterminated string"},
      {"Host(\"a)", 5, "unterminated string"},
      {"Host(\"a\\\")", 5, "unterminated string"},
      {"Host(\"a\nb\")", 5, "unterminated string"},
      {"Host(\"a\\", 5, "unterminated string"},
      {"Host", 4, "expected '(' after Host"},
      {"Host `a`", 5, "expected '(' after Host"},
      {"Host(a)", 5, "expected a quoted string"},
      {"Host(`a`,)", 9, "expected a quoted string"},
      {"Host('a')", 5, "expected a quoted string"},
      {"Host(`a` `b`)", 9, "unexpected string"},
      {"Host(`a`;`b`)", 8, "unexpected ';'"},
      {"Host(`a`) &&", 12, "unexpected end of rule"},
      {"Host(`a`) ||  ", 14, "unexpected end of rule"},
      {"Host(`a`) & Path(`/`)", 10, "unexpected '&'"},
      {"Host(`a`) | Path(`/`)", 10, "unexpected '|'"},
      {"Host(`a`) Path(`/`)", 10, "unexpected Path"},
      {"Host(`a`) `b`", 10, "unexpected string"},
      {"&& Host(`a`)", 0, "unexpected '&&'"},
      {"Host(`a`) && || Path(`/`)", 13, "unexpected '||'"},
      {"!", 1, "unexpected end of rule"},
      {"()", 1, "unexpected ')'"},
      {")", 0, "unexpected ')'"},
      {"Host(`a`) != Path(`/`)", 10, "unexpected '!'"},
      {"!= Path(`/`)", 1, "unexpected '='"},
      {"1Host(`a`)", 0, "unexpected '1'"},
      {"Host(`a`) and Path(`/`)", 10, "unexpected and"},
      {"\0"sv, 0, "unexpected byte 0x00"},
      {"Host(`a`)\0"sv, 9, "unexpected byte 0x00"},
      {"Host(`a\0b`)"sv, 7, "NUL byte in string"},
      {"Host(\"a\0b\")"sv, 7, "NUL byte in string"},
      {"\xC3\xA9", 0, "unexpected byte 0xc3"},
      {"H\xC3\xB3st(`a`)", 1, "expected '(' after H"},
      {"Path(`/\xFF`)", 7, "invalid UTF-8 in string"},
      {"Path(`/\xC3`)", 7, "invalid UTF-8 in string"},
      {"Path(`/\xED\xA0\x80`)", 7, "invalid UTF-8 in string"},
      {"Path(`/\xC0\xAF`)", 7, "invalid UTF-8 in string"},
      {"Path(\"/\xF5\x80\x80\x80\")", 7, "invalid UTF-8 in string"},
      {R"(Host("a\qb"))", 7, "invalid escape sequence"},
      {R"(Host("a\'b"))", 7, "invalid escape sequence"},
      {R"(Host("\x4"))", 6, "invalid escape sequence"},
      {R"(Host("\xZZ"))", 6, "invalid escape sequence"},
      {R"(Host("\400"))", 6, "invalid escape sequence"},
      {R"(Host("\18"))", 6, "invalid escape sequence"},
      {R"(Host("\uD800"))", 6, "invalid escape sequence"},
      {R"(Host("\U00110000"))", 6, "invalid escape sequence"},
      {R"(Host("\u12"))", 6, "invalid escape sequence"},
  }));
  CAPTURE(row.text);
  auto result = parse_expression(row.text);
  REQUIRE(std::holds_alternative<RuleError>(result));
  const auto& error = std::get<RuleError>(result);
  CHECK(error.message == row.message);
  CHECK(error.position == row.position);
  CHECK(error.to_string() == std::string(row.message) + " at " + std::to_string(row.position));
}

TEST_CASE("an empty or blank expression is the error: empty rule") {
  const auto text = GENERATE(as<std::string>{}, "", " ", "\t\r\n");
  auto result = parse_expression(text);
  REQUIRE(std::holds_alternative<RuleError>(result));
  CHECK(std::get<RuleError>(result).message == "empty rule");
  CHECK(std::get<RuleError>(result).position == 0);
  CHECK(std::get<RuleError>(result).to_string() == "empty rule");
}

TEST_CASE("nesting is bounded so hostile input is an error, not a crash") {
  const std::string call = "A(`a`)";
  const std::size_t limit = max_nesting_depth;
  SECTION("parentheses up to the limit parse") {
    const std::string text = std::string(limit, '(') + call + std::string(limit, ')');
    CHECK(render(must_parse(text)) == "A[a]");
  }
  SECTION("10,000 parentheses stop at the first one past the limit") {
    const std::string text = std::string(10000, '(') + call + std::string(10000, ')');
    auto result = parse_expression(text);
    REQUIRE(std::holds_alternative<RuleError>(result));
    CHECK(std::get<RuleError>(result).to_string() == "nesting deeper than 100 at 100");
  }
  SECTION("10,000 unclosed parentheses") {
    auto result = parse_expression(std::string(10000, '('));
    REQUIRE(std::holds_alternative<RuleError>(result));
    CHECK(std::get<RuleError>(result).to_string() == "nesting deeper than 100 at 100");
  }
  SECTION("negations count too") {
    CHECK(depth(must_parse(std::string(limit, '!') + call)) == limit + 1);
    auto result = parse_expression(std::string(10000, '!') + call);
    REQUIRE(std::holds_alternative<RuleError>(result));
    CHECK(std::get<RuleError>(result).to_string() == "nesting deeper than 100 at 100");
  }
  SECTION("mixed, the position is that of the '(' or '!' past the limit") {
    std::string text;
    for (std::size_t i = 0; i < 200; ++i) text += i % 2 == 0 ? "(" : "!";
    auto result = parse_expression(text + call);
    REQUIRE(std::holds_alternative<RuleError>(result));
    CHECK(std::get<RuleError>(result).to_string() == "nesting deeper than 100 at 100");
  }
}

TEST_CASE("long chains make balanced trees") {
  std::string text;
  for (int i = 0; i < 10000; ++i)
    text += (i == 0 ? "" : i % 3 == 0 ? " || " : " && ") + std::string("A(`a`)");
  const Expression e = must_parse(text);
  CHECK(depth(e) <= 20);
  CHECK(e.kind == Kind::any_of);
}

TEST_CASE("a 100 KB argument and 100 KB of garbage are handled") {
  const std::string big(std::size_t{100} * 1024, 'x');
  const Expression e = must_parse("F(`" + big + "`, \"" + big + "\")");
  REQUIRE(e.args.size() == 2);
  CHECK(e.args[0] == big);
  CHECK(e.args[1] == big);

  auto result = parse_expression(std::string(std::size_t{100} * 1024, '&'));
  REQUIRE(std::holds_alternative<RuleError>(result));
  CHECK(std::get<RuleError>(result).to_string() == "unexpected '&&' at 0");

  // A huge name is shortened in the message.
  result = parse_expression(big);
  REQUIRE(std::holds_alternative<RuleError>(result));
  CHECK(std::get<RuleError>(result).message == "expected '(' after " + big.substr(0, 64) + "...");
  CHECK(std::get<RuleError>(result).position == big.size());
}
