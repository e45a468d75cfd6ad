#include "matcher.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <utility>

#include "routing_path.hpp"
#include "text.hpp"

namespace berth::rules {
namespace {

// Regexps see decoded paths and query values in a stack buffer this big (decoding never lengthens).
constexpr std::size_t decode_buffer_size = std::size_t{16} * 1024;
// Hosts are lower-cased here for HostRegexp; DNS names have at most 253 characters.
constexpr std::size_t host_buffer_size = 1024;

struct MatcherSpec {
  std::string_view name;
  MatcherKind kind;
  std::size_t min_args;
  std::size_t max_args;
};

// Traefik v3's httpFuncs (pkg/muxer/http/matcher.go) with their argument counts.
constexpr std::array<MatcherSpec, 11> matcher_specs{{
    {"ClientIP", MatcherKind::client_ip, 1, 1},
    {"Method", MatcherKind::method, 1, 1},
    {"Host", MatcherKind::host, 1, 1},
    {"HostRegexp", MatcherKind::host_regexp, 1, 1},
    {"Path", MatcherKind::path, 1, 1},
    {"PathRegexp", MatcherKind::path_regexp, 1, 1},
    {"PathPrefix", MatcherKind::path_prefix, 1, 1},
    {"Header", MatcherKind::header, 2, 2},
    {"HeaderRegexp", MatcherKind::header_regexp, 2, 2},
    {"Query", MatcherKind::query, 1, 2},
    {"QueryRegexp", MatcherKind::query_regexp, 1, 2},
}};

/// Traefik registers each matcher as written, lower-cased, upper-cased and strings.Title(lower).
bool name_matches(std::string_view written, std::string_view canonical) {
  if (written.size() != canonical.size() || written.empty()) return false;
  if (written == canonical) return true;
  const auto all = [&](std::size_t from, char (*convert)(char)) {
    for (std::size_t i = from; i < written.size(); ++i) {
      if (written[i] != convert(canonical[i])) return false;
    }
    return true;
  };
  const auto lower = [](char c) { return ascii_lower(c); };
  const auto upper = [](char c) { return ascii_upper(c); };
  return all(0, lower) || all(0, upper) ||
         (written.front() == ascii_upper(canonical.front()) && all(1, lower));
}

const MatcherSpec* find_spec(std::string_view name) {
  for (const MatcherSpec& spec : matcher_specs) {
    if (name_matches(name, spec.name)) return &spec;
  }
  return nullptr;
}

std::string arity_message(std::string_view name, const MatcherSpec& spec, std::size_t got) {
  std::string counts = std::to_string(spec.min_args);
  if (spec.max_args != spec.min_args) counts += " or " + std::to_string(spec.max_args);
  return std::string(name) + " expects " + counts +
         (spec.max_args == 1 ? " argument" : " arguments") + ", got " + std::to_string(got);
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool partial_match(const RE2& regexp, std::string_view text) noexcept {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), regexp);
}

bool path_equals(std::string_view raw, std::string_view path) noexcept {
  RoutingPathReader reader(raw);
  std::size_t i = 0;
  char c = 0;
  while (reader.next(c)) {
    if (i >= path.size() || path[i] != c) return false;
    ++i;
  }
  return i == path.size();
}

bool path_has_prefix(std::string_view raw, std::string_view prefix) noexcept {
  RoutingPathReader reader(raw);
  char c = 0;
  for (const char expected : prefix) {
    if (!reader.next(c) || c != expected) return false;
  }
  return true;
}

bool path_matches(const RE2& regexp, std::string_view raw) noexcept {
  if (raw.find('%') == std::string_view::npos || raw.size() > decode_buffer_size) {
    return partial_match(regexp, raw);
  }
  // Left uninitialised: only the written prefix is read.
  std::array<char, decode_buffer_size> buffer;
  std::size_t size = 0;
  RoutingPathReader reader(raw);
  char c = 0;
  while (reader.next(c)) buffer[size++] = c;
  return partial_match(regexp, std::string_view(buffer.data(), size));
}

/// Go's url.QueryUnescape(raw) == expected, false when raw has a bad escape, compared in place.
bool query_component_equals(std::string_view raw, std::string_view expected) noexcept {
  std::size_t j = 0;
  for (std::size_t i = 0; i < raw.size();) {
    char c = raw[i];
    if (c == '%') {
      if (!is_escape(raw, i)) return false;
      c = escaped_byte(raw, i);
      i += 3;
    } else {
      if (c == '+') c = ' ';
      ++i;
    }
    if (j >= expected.size() || expected[j] != c) return false;
    ++j;
  }
  return j == expected.size();
}

bool query_component_matches(const RE2& regexp, std::string_view raw) noexcept {
  if (raw.find_first_of("%+") == std::string_view::npos || raw.size() > decode_buffer_size) {
    return partial_match(regexp, raw);
  }
  // Left uninitialised: only the written prefix is read.
  std::array<char, decode_buffer_size> buffer;
  std::size_t size = 0;
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] == '%') {
      // Go's ParseQuery drops the whole pair when a value does not decode.
      if (!is_escape(raw, i)) return false;
      buffer[size++] = escaped_byte(raw, i);
      i += 3;
    } else {
      buffer[size++] = raw[i] == '+' ? ' ' : raw[i];
      ++i;
    }
  }
  return partial_match(regexp, std::string_view(buffer.data(), size));
}

/// Calls on_pair(key, value) with the raw halves of each pair Go's url.ParseQuery would keep, until
/// it returns true.
template <typename OnPair>
bool any_query_pair(std::string_view query, const OnPair& on_pair) noexcept {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    const std::size_t equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    if (on_pair(key, value)) return true;
  }
  return false;
}

/// Go's net.SplitHostPort host part, or nullopt where it fails.
std::optional<std::string_view> split_host_port(std::string_view address) noexcept {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host;
  if (address.front() == '[') {
    const std::size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 != colon) return std::nullopt;
    host = address.substr(1, close - 1);
    if (address.substr(1).find('[') != std::string_view::npos ||
        address.substr(close + 1).find(']') != std::string_view::npos) {
      return std::nullopt;
    }
  } else {
    host = address.substr(0, colon);
    if (host.find(':') != std::string_view::npos ||
        address.find_first_of("[]") != std::string_view::npos) {
      return std::nullopt;
    }
  }
  return host;
}

bool is_go_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/// Traefik's canonical host (requestdecorator: parseHost, then TrimSpace), case kept.
std::string_view canonical_host(std::string_view host) noexcept {
  if (host.find(':') != std::string_view::npos) {
    if (const auto split = split_host_port(host)) {
      host = *split;
    } else if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
  }
  while (!host.empty() && is_go_space(host.front())) host.remove_prefix(1);
  while (!host.empty() && is_go_space(host.back())) host.remove_suffix(1);
  return host;
}

std::string_view without_trailing_dot(std::string_view host) noexcept {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

/// Host(expected): `expected` is lower-cased without trailing dot; may start with "*." (one label).
bool host_matches(std::string_view request_host, std::string_view expected) noexcept {
  const std::string_view canonical = canonical_host(request_host);
  if (canonical.empty()) return false;
  const std::string_view domain = without_trailing_dot(canonical);
  if (!expected.empty() && expected.front() == '*') {
    const std::size_t dot = domain.find('.');
    const std::string_view rest = dot == std::string_view::npos ? "" : domain.substr(dot);
    return equals_ignore_case(rest, expected.substr(1));
  }
  return equals_ignore_case(domain, expected);
}

bool host_regexp_matches(const RE2& regexp, std::string_view request_host) noexcept {
  const std::string_view host = canonical_host(request_host);
  const bool has_upper =
      std::any_of(host.begin(), host.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!has_upper || host.size() > host_buffer_size) return partial_match(regexp, host);
  // Left uninitialised: only the written prefix is read.
  std::array<char, host_buffer_size> buffer;
  std::transform(host.begin(), host.end(), buffer.begin(), ascii_lower);
  return partial_match(regexp, std::string_view(buffer.data(), host.size()));
}

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

bool is_v4_mapped(const IpAddress& address) {
  return std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), address.bytes.begin());
}

bool in_network(const IpAddress& address, const Leaf& leaf) noexcept {
  // As Go's IPNet.Contains: a network written in IPv6 form never holds an IPv4 address.
  if (leaf.v6_network && is_v4_mapped(address)) return false;
  const std::size_t full_bytes = leaf.prefix_bits / 8;
  if (!std::equal(leaf.network.bytes.begin(),
                  leaf.network.bytes.begin() + static_cast<std::ptrdiff_t>(full_bytes),
                  address.bytes.begin())) {
    return false;
  }
  const unsigned rest = leaf.prefix_bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (leaf.network.bytes[full_bytes] & mask) == (address.bytes[full_bytes] & mask);
}

/// ClientIP's argument: an address or a CIDR, as Go's net.ParseIP / net.ParseCIDR accept them.
bool parse_network(std::string_view text, Leaf& leaf) {
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  if (address_text.find_first_of("[]%") != std::string_view::npos) return false;
  const auto address = IpAddress::parse(address_text);
  if (!address) return false;
  const bool written_v4 = address_text.find(':') == std::string_view::npos;
  leaf.network = *address;
  leaf.prefix_bits = 128;
  if (slash == std::string_view::npos) return true;
  const std::string_view digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return false;
  unsigned bits = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + static_cast<unsigned>(c - '0');
  }
  if (bits > (written_v4 ? 32U : 128U)) return false;
  leaf.prefix_bits = written_v4 ? bits + 96 : bits;
  leaf.v6_network = !written_v4;
  return true;
}

std::optional<RuleError> compile_regexp(const std::string& pattern, std::size_t position,
                                        std::string_view name, Leaf& leaf) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);
  auto regexp = std::make_unique<const RE2>(pattern, options);
  if (!regexp->ok()) {
    return RuleError{position,
                     "invalid regexp in " + std::string(name) + ": " + clip(regexp->error(), 100)};
  }
  leaf.regexp = std::move(regexp);
  return std::nullopt;
}

using HostSet = std::optional<std::vector<std::string>>;  // nullopt: no fixed host needed

HostSet hosts_of(const Expression& expression) {
  switch (expression.kind) {
    case Expression::Kind::negation:
      return std::nullopt;
    case Expression::Kind::call: {
      if (!name_matches(expression.name, "Host") || expression.args.size() != 1)
        return std::nullopt;
      const std::string& host = expression.args.front();
      if (host.starts_with('*')) return std::nullopt;
      return std::vector<std::string>{to_lower(without_trailing_dot(host))};
    }
    case Expression::Kind::all_of: {
      HostSet result;
      for (const Expression& operand : expression.operands) {
        HostSet hosts = hosts_of(operand);
        if (!hosts) continue;
        if (!result) {
          result = std::move(hosts);
          continue;
        }
        std::vector<std::string> both;
        std::set_intersection(result->begin(), result->end(), hosts->begin(), hosts->end(),
                              std::back_inserter(both));
        result = std::move(both);
      }
      return result;
    }
    case Expression::Kind::any_of: {
      std::vector<std::string> result;
      for (const Expression& operand : expression.operands) {
        HostSet hosts = hosts_of(operand);
        if (!hosts) return std::nullopt;
        std::vector<std::string> either;
        std::set_union(result.begin(), result.end(), hosts->begin(), hosts->end(),
                       std::back_inserter(either));
        result = std::move(either);
      }
      return result;
    }
  }
  return std::nullopt;
}

using PrefixSet = std::optional<std::vector<std::string>>;  // nullopt: any path may match

/// The length of the shortest prefix: how selective the set is.
std::size_t shortest(const std::vector<std::string>& prefixes) {
  std::size_t size = std::string::npos;
  for (const std::string& prefix : prefixes) size = std::min(size, prefix.size());
  return size;
}

PrefixSet path_prefixes_of(const Expression& expression) {
  switch (expression.kind) {
    case Expression::Kind::negation:
      return std::nullopt;
    case Expression::Kind::call:
      // A Path must equal the routing path, so it is also a prefix of it.
      if ((name_matches(expression.name, "PathPrefix") || name_matches(expression.name, "Path")) &&
          expression.args.size() == 1) {
        return std::vector<std::string>{expression.args.front()};
      }
      return std::nullopt;
    case Expression::Kind::all_of: {
      // Every operand must match, so any operand's set is required: keep the most selective.
      PrefixSet best;
      for (const Expression& operand : expression.operands) {
        PrefixSet prefixes = path_prefixes_of(operand);
        if (prefixes && (!best || shortest(*prefixes) > shortest(*best)))
          best = std::move(prefixes);
      }
      return best;
    }
    case Expression::Kind::any_of: {
      std::vector<std::string> result;
      for (const Expression& operand : expression.operands) {
        PrefixSet prefixes = path_prefixes_of(operand);
        if (!prefixes) return std::nullopt;
        result.insert(result.end(), prefixes->begin(), prefixes->end());
      }
      std::sort(result.begin(), result.end());
      result.erase(std::unique(result.begin(), result.end()), result.end());
      return result;
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<std::shared_ptr<const Matcher>, RuleError> Matcher::build(const Expression& rule) {
  auto matcher = std::make_shared<Matcher>();
  if (auto error = matcher->add(rule, false)) return std::move(*error);
  return std::shared_ptr<const Matcher>(std::move(matcher));
}

std::optional<RuleError> Matcher::add(const Expression& expression, bool negated) {
  switch (expression.kind) {
    case Expression::Kind::negation:
      return add(expression.operands.front(), !negated);
    case Expression::Kind::call:
      return add_leaf(expression, negated);
    case Expression::Kind::all_of:
    case Expression::Kind::any_of: {
      const std::size_t index = nodes_.size();
      nodes_.push_back(Node{expression.kind == Expression::Kind::all_of ? Op::all_of : Op::any_of,
                            negated, 0, 0});
      if (auto error = add_operands(expression, expression.kind)) return error;
      nodes_[index].end = nodes_.size();
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Operands of the same kind are merged into one n-ary node: a && b && c has three children.
std::optional<RuleError> Matcher::add_operands(const Expression& expression,
                                               Expression::Kind kind) {
  for (const Expression& operand : expression.operands) {
    auto error = operand.kind == kind ? add_operands(operand, kind) : add(operand, false);
    if (error) return error;
  }
  return std::nullopt;
}

std::optional<RuleError> Matcher::add_leaf(const Expression& call, bool negated) {
  const MatcherSpec* spec = find_spec(call.name);
  if (spec == nullptr) return RuleError{call.position, "unknown matcher " + clip(call.name)};
  const std::size_t count = call.args.size();
  if (count < spec->min_args || count > spec->max_args) {
    return RuleError{call.position, arity_message(call.name, *spec, count)};
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (call.args[i].empty()) {
      return RuleError{call.arg_positions[i], "empty argument for " + call.name};
    }
  }
  const std::string& first = call.args.front();
  const std::size_t first_position = call.arg_positions.front();
  const std::string_view last = call.args.back();
  const std::size_t last_position = call.arg_positions.back();

  Leaf leaf;
  leaf.kind = spec->kind;
  std::optional<RuleError> error;
  switch (spec->kind) {
    case MatcherKind::host:
    case MatcherKind::host_any:
      if (first == "*") {
        leaf.kind = MatcherKind::host_any;
        break;
      }
      if (!is_ascii(first)) return RuleError{first_position, "non-ASCII host in " + call.name};
      leaf.text = to_lower(without_trailing_dot(first));
      break;
    case MatcherKind::host_regexp:
      if (!is_ascii(first)) return RuleError{first_position, "non-ASCII regexp in " + call.name};
      error = compile_regexp(first, first_position, call.name, leaf);
      break;
    case MatcherKind::path:
    case MatcherKind::path_prefix:
      if (first.front() != '/') {
        return RuleError{first_position, call.name + " argument must start with '/'"};
      }
      leaf.text = first;
      break;
    case MatcherKind::path_regexp:
      error = compile_regexp(first, first_position, call.name, leaf);
      break;
    case MatcherKind::method:
      leaf.text = to_upper(first);
      break;
    case MatcherKind::header:
    case MatcherKind::query:
      leaf.text = first;
      if (count == 2) leaf.value = std::string(last);
      break;
    case MatcherKind::header_regexp:
    case MatcherKind::query_regexp:
      leaf.text = first;
      if (count == 1) {
        // QueryRegexp(`k`) is Query(`k`), as in Traefik.
        leaf.kind = MatcherKind::query;
        break;
      }
      error = compile_regexp(std::string(last), last_position, call.name, leaf);
      break;
    case MatcherKind::client_ip:
      if (!parse_network(first, leaf)) {
        return RuleError{first_position,
                         "invalid IP address or CIDR \"" + clip(first) + "\" in " + call.name};
      }
      break;
  }
  if (error) return error;
  nodes_.push_back(Node{Op::leaf, negated, nodes_.size() + 1, leaves_.size()});
  leaves_.push_back(std::move(leaf));
  return std::nullopt;
}

bool Matcher::matches(const RequestView& request) const noexcept {
  return !nodes_.empty() && evaluate(0, request);
}

bool Matcher::evaluate(std::size_t index, const RequestView& request) const noexcept {
  const Node& node = nodes_[index];
  bool result = false;
  switch (node.op) {
    case Op::leaf:
      result = leaf_matches(leaves_[node.leaf], request);
      break;
    case Op::all_of:
      result = true;
      for (std::size_t child = index + 1; child < node.end; child = nodes_[child].end) {
        if (!evaluate(child, request)) {
          result = false;
          break;
        }
      }
      break;
    case Op::any_of:
      for (std::size_t child = index + 1; child < node.end; child = nodes_[child].end) {
        if (evaluate(child, request)) {
          result = true;
          break;
        }
      }
      break;
  }
  return result != node.negated;
}

bool Matcher::leaf_matches(const Leaf& leaf, const RequestView& request) noexcept {
  switch (leaf.kind) {
    case MatcherKind::host:
      return host_matches(request.host, leaf.text);
    case MatcherKind::host_any:
      return true;
    case MatcherKind::host_regexp:
      return host_regexp_matches(*leaf.regexp, request.host);
    case MatcherKind::path:
      return path_equals(request.path, leaf.text);
    case MatcherKind::path_prefix:
      return path_has_prefix(request.path, leaf.text);
    case MatcherKind::path_regexp:
      return path_matches(*leaf.regexp, request.path);
    case MatcherKind::method:
      return request.method == leaf.text;
    case MatcherKind::header:
      return std::any_of(request.headers.begin(), request.headers.end(), [&](const auto& field) {
        return equals_ignore_case(field.name, leaf.text) && field.value == leaf.value;
      });
    case MatcherKind::header_regexp:
      return std::any_of(request.headers.begin(), request.headers.end(), [&](const auto& field) {
        return equals_ignore_case(field.name, leaf.text) &&
               partial_match(*leaf.regexp, field.value);
      });
    case MatcherKind::query:
      return any_query_pair(request.query, [&](std::string_view key, std::string_view value) {
        return query_component_equals(key, leaf.text) && query_component_equals(value, leaf.value);
      });
    case MatcherKind::query_regexp:
      return any_query_pair(request.query, [&](std::string_view key, std::string_view value) {
        return query_component_equals(key, leaf.text) &&
               query_component_matches(*leaf.regexp, value);
      });
    case MatcherKind::client_ip:
      return request.client_ip.has_value() && in_network(*request.client_ip, leaf);
  }
  return false;
}

std::vector<std::string> required_hosts(const Expression& rule) {
  HostSet hosts = hosts_of(rule);
  return hosts ? std::move(*hosts) : std::vector<std::string>{};
}

std::vector<std::string> required_path_prefixes(const Expression& rule) {
  PrefixSet prefixes = path_prefixes_of(rule);
  return prefixes ? std::move(*prefixes) : std::vector<std::string>{};
}

std::string_view routing_host(std::string_view host) noexcept {
  return without_trailing_dot(canonical_host(host));
}

bool has_valid_percent_encoding(std::string_view raw_path) noexcept {
  for (std::size_t i = 0; i < raw_path.size(); ++i) {
    if (raw_path[i] != '%') continue;
    if (!is_escape(raw_path, i)) return false;
    i += 2;
  }
  return true;
}

}  // namespace berth::rules
