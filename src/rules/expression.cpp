#include "berth/rules/expression.hpp"

#include <cstdint>
#include <utility>

#include "text.hpp"

namespace berth::rules {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

/// Length of the valid UTF-8 sequence starting at s[i] (no overlongs, no surrogates), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  const auto put = [&](std::uint32_t b) { out.push_back(static_cast<char>(b)); };
  if (code_point < 0x80) {
    put(code_point);
  } else if (code_point < 0x800) {
    put(0xC0 | (code_point >> 6));
    put(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    put(0xE0 | (code_point >> 12));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  } else {
    put(0xF0 | (code_point >> 18));
    put(0x80 | ((code_point >> 12) & 0x3F));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  }
}

/// Turns a chain `a op b op c` into a balanced binary tree, so its depth grows with log(n).
Expression balance(Expression::Kind kind, std::vector<Expression>& items,
                   const std::vector<std::size_t>& operators, std::size_t low, std::size_t high) {
  if (high - low == 1) return std::move(items[low]);
  const std::size_t middle = low + (high - low) / 2;
  Expression node;
  node.kind = kind;
  node.position = operators[middle - 1];
  node.operands.reserve(2);
  node.operands.push_back(balance(kind, items, operators, low, middle));
  node.operands.push_back(balance(kind, items, operators, middle, high));
  return node;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::variant<Expression, RuleError> run() {
    skip_space();
    if (pos_ == text_.size()) return RuleError{0, std::string(empty_rule_message)};
    Expression expression;
    if (!parse_or(expression)) return std::move(error_);
    skip_space();
    if (pos_ != text_.size()) {
      unexpected(pos_);
      return std::move(error_);
    }
    return expression;
  }

 private:
  bool fail(std::size_t position, std::string message) {
    error_ = RuleError{position, std::move(message)};
    return false;
  }

  /// "unexpected ')'", "unexpected '&&'", "unexpected Path", "unexpected byte 0x00", ...
  bool unexpected(std::size_t position) {
    if (position >= text_.size()) return fail(position, "unexpected end of rule");
    const std::string_view rest = text_.substr(position);
    const char c = rest.front();
    if (rest.starts_with("&&") || rest.starts_with("||")) {
      return fail(position, "unexpected '" + std::string(rest.substr(0, 2)) + "'");
    }
    if (is_name_start(c)) {
      std::size_t end = 0;
      while (end < rest.size() && is_name_char(rest[end])) ++end;
      return fail(position, "unexpected " + clip(rest.substr(0, end)));
    }
    if (c == '`' || c == '"') return fail(position, "unexpected string");
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7F) return fail(position, std::string("unexpected '") + c + "'");
    static constexpr std::string_view digits = "0123456789abcdef";
    return fail(position,
                std::string("unexpected byte 0x") + digits[byte >> 4] + digits[byte & 0xF]);
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  bool at(std::string_view token) const { return text_.substr(pos_).starts_with(token); }

  bool enter(std::size_t position) {
    if (++depth_ > max_nesting_depth) {
      return fail(position, "nesting deeper than " + std::to_string(max_nesting_depth));
    }
    return true;
  }

  bool parse_or(Expression& out) { return parse_chain(out, Expression::Kind::any_of, "||"); }

  bool parse_and(Expression& out) { return parse_chain(out, Expression::Kind::all_of, "&&"); }

  /// operand (op operand)*, where && chains consist of unary operands and || chains of && chains.
  bool parse_chain(Expression& out, Expression::Kind kind, std::string_view op) {
    const auto operand = [&](Expression& e) {
      return kind == Expression::Kind::any_of ? parse_and(e) : parse_unary(e);
    };
    std::vector<Expression> items(1);
    std::vector<std::size_t> operators;
    if (!operand(items.front())) return false;
    for (;;) {
      skip_space();
      if (!at(op)) break;
      operators.push_back(pos_);
      pos_ += op.size();
      items.emplace_back();
      if (!operand(items.back())) return false;
    }
    out = balance(kind, items, operators, 0, items.size());
    return true;
  }

  bool parse_unary(Expression& out) {
    skip_space();
    if (pos_ >= text_.size()) return unexpected(pos_);
    const std::size_t start = pos_;
    const char c = text_[pos_];
    if (c == '!') {
      if (!enter(start)) return false;
      ++pos_;
      out.kind = Expression::Kind::negation;
      out.position = start;
      out.operands.resize(1);
      if (!parse_unary(out.operands.front())) return false;
      --depth_;
      return true;
    }
    if (c == '(') {
      if (!enter(start)) return false;
      ++pos_;
      if (!parse_or(out)) return false;
      skip_space();
      if (pos_ >= text_.size()) return fail(start, "unclosed '('");
      if (text_[pos_] != ')') return unexpected(pos_);
      ++pos_;
      --depth_;
      return true;
    }
    if (is_name_start(c)) return parse_call(out);
    return unexpected(pos_);
  }

  bool parse_call(Expression& out) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    out.kind = Expression::Kind::call;
    out.name = std::string(text_.substr(start, pos_ - start));
    out.position = start;
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != '(') {
      return fail(pos_, "expected '(' after " + clip(out.name));
    }
    const std::size_t open = pos_++;
    skip_space();
    if (at(")")) {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      if (pos_ >= text_.size()) return fail(open, "unclosed '('");
      out.arg_positions.push_back(pos_);
      if (!parse_string(out.args.emplace_back())) return false;
      skip_space();
      if (pos_ >= text_.size()) return fail(open, "unclosed '('");
      if (text_[pos_] == ')') {
        ++pos_;
        return true;
      }
      if (text_[pos_] != ',') return unexpected(pos_);
      ++pos_;
    }
  }

  /// Checks one source character of a literal (NUL, UTF-8) and returns its length, 0 on error.
  std::size_t literal_char(std::size_t i) {
    if (text_[i] == '\0') {
      fail(i, "NUL byte in string");
      return 0;
    }
    const std::size_t length = utf8_length(text_, i);
    if (length == 0) fail(i, "invalid UTF-8 in string");
    return length;
  }

  bool parse_string(std::string& out) {
    const std::size_t quote = pos_;
    if (text_[quote] == '`') {
      const std::size_t close = text_.find('`', quote + 1);
      if (close == std::string_view::npos) return fail(quote, "unterminated string");
      for (std::size_t i = quote + 1; i < close;) {
        const std::size_t length = literal_char(i);
        if (length == 0) return false;
        // Go drops carriage returns from raw strings.
        if (text_[i] != '\r') out.append(text_.substr(i, length));
        i += length;
      }
      pos_ = close + 1;
      return true;
    }
    if (text_[quote] != '"') return fail(quote, "expected a quoted string");
    std::size_t i = quote + 1;
    for (;;) {
      if (i >= text_.size() || text_[i] == '\n') return fail(quote, "unterminated string");
      const char c = text_[i];
      if (c == '"') break;
      if (c == '\\') {
        if (i + 1 >= text_.size()) return fail(quote, "unterminated string");
        if (!parse_escape(i, out)) return false;
        continue;
      }
      const std::size_t length = literal_char(i);
      if (length == 0) return false;
      out.append(text_.substr(i, length));
      i += length;
    }
    pos_ = i + 1;
    return true;
  }

  /// Reads `value_digits` digits of `base` at `from`; false when they are not all there.
  bool read_number(std::size_t from, std::size_t value_digits, std::uint32_t base,
                   std::uint32_t& value) const {
    if (from + value_digits > text_.size()) return false;
    value = 0;
    for (std::size_t k = 0; k < value_digits; ++k) {
      const int digit = hex_value(text_[from + k]);
      if (digit < 0 || static_cast<std::uint32_t>(digit) >= base) return false;
      value = value * base + static_cast<std::uint32_t>(digit);
    }
    return true;
  }

  /// Decodes the escape sequence at text_[i] == '\\' (not the last byte) into out and advances i
  /// past it.
  bool parse_escape(std::size_t& i, std::string& out) {
    static constexpr std::string_view simple = "abfnrtv\\\"";
    static constexpr std::string_view simple_values = "\a\b\f\n\r\t\v\\\"";
    const std::size_t start = i;
    const char kind = text_[i + 1];
    std::uint32_t value = 0;
    if (const std::size_t k = simple.find(kind); k != std::string_view::npos) {
      out.push_back(simple_values[k]);
      i += 2;
      return true;
    }
    if (kind == 'x') {
      if (!read_number(i + 2, 2, 16, value)) return fail(start, "invalid escape sequence");
      out.push_back(static_cast<char>(value));
      i += 4;
      return true;
    }
    if (kind == 'u' || kind == 'U') {
      const std::size_t digits = kind == 'u' ? 4 : 8;
      if (!read_number(i + 2, digits, 16, value) || value > 0x10FFFF ||
          (value >= 0xD800 && value <= 0xDFFF)) {
        return fail(start, "invalid escape sequence");
      }
      append_utf8(out, value);
      i += 2 + digits;
      return true;
    }
    if (kind >= '0' && kind <= '7' && read_number(i + 1, 3, 8, value) && value <= 0xFF) {
      out.push_back(static_cast<char>(value));
      i += 4;
      return true;
    }
    return fail(start, "invalid escape sequence");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  RuleError error_;
};

}  // namespace

std::variant<Expression, RuleError> parse_expression(std::string_view text) {
  return Parser(text).run();
}

}  // namespace berth::rules
