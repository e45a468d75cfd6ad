#include "go_template.hpp"

#include <cctype>
#include <optional>
#include <vector>

namespace berth::labels {

std::string normalize(std::string_view name) {
  std::string out;
  bool pending_dash = false;
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    bool keep = std::isalnum(byte) != 0 || byte >= 0x80;
    if (!keep) {
      pending_dash = !out.empty();
      continue;
    }
    if (pending_dash) out += '-';
    pending_dash = false;
    out += c;
  }
  return out;
}

namespace {

using Labels = std::map<std::string, std::string>;
using Value = std::variant<std::string, const Labels*>;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

struct Token {
  enum class Kind { field, ident, string, open, close, pipe, end };
  Kind kind = Kind::end;
  std::string text;
};

// Evaluates one action (the text between `{{` and `}}`) while parsing it: with no control flow,
// there is nothing to gain from building a tree first.
class Action {
 public:
  Action(std::string_view text, const TemplateModel& model) : text_(text), model_(model) {}

  std::optional<std::string> run() {
    std::optional<Value> value = pipeline();
    if (!value) return std::nullopt;
    if (peek().kind != Token::Kind::end) return fail("unexpected '" + peek().text + "'");
    if (!std::holds_alternative<std::string>(*value)) {
      return fail("cannot print a map; use index .Labels \"key\"");
    }
    return std::get<std::string>(*value);
  }

  const std::string& error() const { return error_; }

 private:
  std::nullopt_t fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return std::nullopt;
  }

  const Token& peek() {
    if (!lookahead_) lookahead_ = lex();
    return *lookahead_;
  }

  Token next() {
    Token token = peek();
    lookahead_.reset();
    return token;
  }

  Token lex() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    if (pos_ >= text_.size()) return {Token::Kind::end, "end of action"};
    char c = text_[pos_];
    if (c == '(' || c == ')' || c == '|') {
      ++pos_;
      auto kind =
          c == '(' ? Token::Kind::open : (c == ')' ? Token::Kind::close : Token::Kind::pipe);
      return {kind, std::string(1, c)};
    }
    if (c == '"' || c == '`') return lex_string(c);
    std::size_t start = pos_;
    if (c == '.') {
      ++pos_;
      while (pos_ < text_.size() && (is_ident_char(text_[pos_]) || text_[pos_] == '.')) ++pos_;
      return {Token::Kind::field, std::string(text_.substr(start, pos_ - start))};
    }
    while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != '(' &&
           text_[pos_] != ')' && text_[pos_] != '|') {
      ++pos_;
    }
    return {Token::Kind::ident, std::string(text_.substr(start, pos_ - start))};
  }

  Token lex_string(char quote) {
    ++pos_;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (quote == '"' && c == '\\' && pos_ < text_.size()) {
        char e = text_[pos_++];
        out += e == 'n' ? '\n' : (e == 't' ? '\t' : e);
        continue;
      }
      out += c;
    }
    if (pos_ >= text_.size()) {
      fail("unterminated string");
      return {Token::Kind::end, "end of action"};
    }
    ++pos_;
    return {Token::Kind::string, std::move(out)};
  }

  std::optional<Value> pipeline() {
    std::optional<Value> value = command(std::nullopt);
    while (value && peek().kind == Token::Kind::pipe) {
      next();
      value = command(std::move(value));
    }
    return value;
  }

  std::optional<Value> command(std::optional<Value> piped) {
    if (!error_.empty()) return std::nullopt;
    if (peek().kind == Token::Kind::ident) {
      std::string name = next().text;
      std::vector<Value> args;
      while (peek().kind != Token::Kind::pipe && peek().kind != Token::Kind::close &&
             peek().kind != Token::Kind::end) {
        std::optional<Value> arg = operand();
        if (!arg) return std::nullopt;
        args.push_back(std::move(*arg));
      }
      if (piped) args.push_back(std::move(*piped));
      return call(name, args);
    }
    if (piped) return fail("can only pipe into a function");
    std::optional<Value> value = operand();
    if (value && peek().kind != Token::Kind::pipe && peek().kind != Token::Kind::close &&
        peek().kind != Token::Kind::end) {
      return fail("unexpected '" + peek().text + "' after a value");
    }
    return value;
  }

  std::optional<Value> operand() {
    Token token = next();
    switch (token.kind) {
      case Token::Kind::string:
        return Value{std::move(token.text)};
      case Token::Kind::field:
        return field(token.text);
      case Token::Kind::open: {
        std::optional<Value> value = pipeline();
        if (!value) return std::nullopt;
        if (next().kind != Token::Kind::close) return fail("missing ')'");
        return value;
      }
      case Token::Kind::ident:
        return fail("'" + token.text + "' is not supported as an argument here");
      default:
        if (!error_.empty()) return std::nullopt;
        return fail("unexpected '" + token.text + "'");
    }
  }

  std::optional<Value> field(std::string_view path) {
    if (path == ".Name") return Value{model_.name};
    if (path == ".ContainerName") return Value{model_.container_name};
    static const Labels no_labels;
    const Labels* labels = model_.labels ? model_.labels : &no_labels;
    if (path == ".Labels") return Value{labels};
    constexpr std::string_view labels_prefix = ".Labels.";
    if (path.starts_with(labels_prefix) && path.size() > labels_prefix.size()) {
      // Go returns the zero value for a key that is not in a map[string]string.
      auto it = labels->find(std::string(path.substr(labels_prefix.size())));
      return Value{it == labels->end() ? std::string() : it->second};
    }
    return fail("unknown field " + std::string(path) +
                " (the model has .Name, .ContainerName and .Labels)");
  }

  std::optional<std::string> string_arg(const std::string& function, const Value& value) {
    if (const auto* text = std::get_if<std::string>(&value)) return *text;
    return fail(function + ": expected a string, got a map");
  }

  std::optional<Value> call(const std::string& name, const std::vector<Value>& args) {
    if (name == "if" || name == "range" || name == "with" || name == "end" || name == "else" ||
        name == "define" || name == "template" || name == "block" || name.starts_with("$")) {
      return fail("'" + name + "' is not supported in berth's default rule templates");
    }
    auto arity = [&](std::size_t count) {
      if (args.size() == count) return true;
      fail(name + " expects " + std::to_string(count) + " argument(s), got " +
           std::to_string(args.size()));
      return false;
    };
    if (name == "index") {
      if (!arity(2)) return std::nullopt;
      const auto* const* labels = std::get_if<const Labels*>(&args[0]);
      if (!labels) return fail("index: the first argument must be .Labels");
      std::optional<std::string> key = string_arg(name, args[1]);
      if (!key) return std::nullopt;
      auto it = (*labels)->find(*key);
      return Value{it == (*labels)->end() ? std::string() : it->second};
    }
    std::vector<std::string> strings;
    for (const Value& arg : args) {
      std::optional<std::string> text = string_arg(name, arg);
      if (!text) return std::nullopt;
      strings.push_back(std::move(*text));
    }
    if (name == "normalize" || name == "lower" || name == "upper" || name == "trim") {
      if (!arity(1)) return std::nullopt;
      std::string s = strings[0];
      if (name == "normalize") return Value{normalize(s)};
      if (name == "trim") {
        std::size_t b = 0;
        std::size_t e = s.size();
        while (b < e && is_space(s[b])) ++b;
        while (e > b && is_space(s[e - 1])) --e;
        return Value{s.substr(b, e - b)};
      }
      for (char& c : s) {
        auto byte = static_cast<unsigned char>(c);
        c = static_cast<char>(name == "lower" ? std::tolower(byte) : std::toupper(byte));
      }
      return Value{s};
    }
    if (name == "trimPrefix" || name == "trimSuffix" || name == "default") {
      if (!arity(2)) return std::nullopt;
      const std::string& affix = strings[0];
      std::string s = strings[1];
      if (name == "default") return Value{s.empty() ? affix : s};
      if (name == "trimPrefix" && s.starts_with(affix)) s.erase(0, affix.size());
      if (name == "trimSuffix" && s.ends_with(affix)) s.erase(s.size() - affix.size());
      return Value{s};
    }
    if (name == "replace") {
      if (!arity(3)) return std::nullopt;
      const std::string& from = strings[0];
      std::string s = strings[2];
      if (from.empty()) return Value{s};
      std::string out;
      std::size_t start = 0;
      for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, start)) {
        out.append(s, start, at - start);
        out += strings[1];
        start = at + from.size();
      }
      out.append(s, start);
      return Value{out};
    }
    return fail("unsupported template function '" + name + "'");
  }

  std::string_view text_;
  const TemplateModel& model_;
  std::size_t pos_ = 0;
  std::optional<Token> lookahead_;
  std::string error_;
};

}  // namespace

std::variant<std::string, TemplateError> execute_template(std::string_view text,
                                                          const TemplateModel& model) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    std::size_t inner = open + 2;
    bool trim_left = text.size() > inner + 1 && text[inner] == '-' && is_space(text[inner + 1]);
    out.append(text.substr(pos, open - pos));
    if (trim_left) {
      while (!out.empty() && is_space(out.back())) out.pop_back();
      inner += 2;
    }
    std::size_t close = text.find("}}", inner);
    if (close == std::string_view::npos) {
      return TemplateError{"unclosed action: missing }} after offset " + std::to_string(open)};
    }
    std::size_t inner_end = close;
    bool trim_right =
        inner_end >= inner + 2 && text[inner_end - 1] == '-' && is_space(text[inner_end - 2]);
    if (trim_right) inner_end -= 2;
    std::string_view action = text.substr(inner, inner_end - inner);
    pos = close + 2;
    if (trim_right) {
      while (pos < text.size() && is_space(text[pos])) ++pos;
    }
    std::string_view trimmed = action;
    while (!trimmed.empty() && is_space(trimmed.front())) trimmed.remove_prefix(1);
    while (!trimmed.empty() && is_space(trimmed.back())) trimmed.remove_suffix(1);
    if (trimmed.starts_with("/*") && trimmed.ends_with("*/") && trimmed.size() >= 4) continue;
    if (trimmed.empty()) return TemplateError{"empty action {{}}"};
    Action evaluator(trimmed, model);
    std::optional<std::string> value = evaluator.run();
    if (!value) return TemplateError{"in {{" + std::string(action) + "}}: " + evaluator.error()};
    out += *value;
  }
  return out;
}

}  // namespace berth::labels
