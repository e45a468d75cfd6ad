// Building chains from definitions, and running them.

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <type_traits>

#include "middleware.hpp"

namespace berth::middleware {

// ---------------------------------------------------------------------------------------------
// Helpers

TargetSplit split_target(std::string_view target) {
  TargetSplit split;
  std::string_view rest = target;
  if (!rest.starts_with('/')) {
    // Absolute-form: keep "scheme://authority" as the prefix.
    const auto scheme_end = rest.find("://");
    if (scheme_end != std::string_view::npos) {
      const auto path_start = rest.find_first_of("/?", scheme_end + 3);
      split.prefix =
          rest.substr(0, path_start == std::string_view::npos ? rest.size() : path_start);
      rest.remove_prefix(split.prefix.size());
    }
  }
  const auto query = rest.find('?');
  split.path = rest.substr(0, query);
  if (query != std::string_view::npos) split.query = rest.substr(query);
  return split;
}

void set_path(RequestHeader& request, std::string_view path) {
  const auto split = split_target(request.target());
  std::string target;
  target.reserve(split.prefix.size() + path.size() + split.query.size() + 1);
  target.append(split.prefix);
  // Go's URL.RequestURI() sends "/" for an empty path.
  if (path.empty()) {
    target.push_back('/');
  } else {
    target.append(path);
  }
  target.append(split.query);
  request.target(target);
}

std::string ensure_leading_slash(std::string_view path) {
  if (path.empty() || path.front() == '/') return std::string(path);
  std::string result;
  result.reserve(path.size() + 1);
  result.push_back('/');
  result.append(path);
  return result;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string_view host_without_port(std::string_view host) noexcept {
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return host;
    const auto rest = host.substr(close + 1);
    if (rest.empty() || rest.starts_with(':')) return host.substr(1, close - 1);
    return host;
  }
  const auto colon = host.find(':');
  if (colon == std::string_view::npos || host.find(':', colon + 1) != std::string_view::npos) {
    return host;
  }
  return host.substr(0, colon);
}

StringResponse make_response(http::status status, std::string body, unsigned version) {
  StringResponse response{status, version};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

StringResponse too_large_response() {
  return make_response(http::status::payload_too_large, "Request Entity Too Large");
}

// ---------------------------------------------------------------------------------------------
// Registry

void StateRegistry::sweep() {
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [](const auto& entry) { return entry.second.state.expired(); });
}

std::size_t StateRegistry::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

// ---------------------------------------------------------------------------------------------
// Chain

Chain::Chain(std::vector<std::shared_ptr<const Middleware>> middlewares)
    : middlewares_(std::move(middlewares)) {
  for (const auto& m : middlewares_) {
    if (const auto* policy = m->retry_policy()) {
      retry_ = policy;
      break;
    }
  }
}

namespace {

/// A middleware's own answer passes through the response side of the middlewares before it (the
/// ones that wrap it in Traefik), not through its own.
Decision settle(RequestState& state, Decision decision) {
  if (std::holds_alternative<Respond>(decision)) state.executed = state.next - 1;
  return decision;
}

}  // namespace

Decision Chain::run(RequestContext& context) const {
  auto& state = context.state;
  while (state.next < middlewares_.size()) {
    const Middleware& m = *middlewares_[state.next];
    ++state.next;
    state.executed = state.next;
    if (auto decision = m.on_request(context)) return settle(state, std::move(*decision));
  }
  return Proceed{state.delay};
}

Decision Chain::on_request(RequestContext& context) const {
  if (middlewares_.empty()) return Proceed{};
  context.state.next = 0;
  context.state.executed = 0;
  context.state.delay = {};
  return run(context);
}

Decision Chain::resume(RequestContext& context) const {
  return run(context);
}

Decision Chain::on_forward_auth_response(
    RequestContext& context, const http::response<http::string_body>& auth_response) const {
  auto& state = context.state;
  if (state.next == 0 || state.next > middlewares_.size()) return Proceed{};
  if (auto decision = middlewares_[state.next - 1]->on_auth_response(context, auth_response)) {
    return settle(state, std::move(*decision));
  }
  return run(context);
}

Decision Chain::on_forward_auth_error(RequestContext& context) const {
  context.state.executed = context.state.next > 0 ? context.state.next - 1 : 0;
  return Respond{make_response(http::status::internal_server_error, "Internal Server Error")};
}

void Chain::on_response(ResponseContext& context) const {
  for (std::size_t i = std::min(context.state.executed, middlewares_.size()); i > 0; --i) {
    middlewares_[i - 1]->on_response(context);
  }
}

// ---------------------------------------------------------------------------------------------
// Building

Compiled compile(const std::string& name, const config::Middleware& definition,
                 const Environment& environment) {
  return std::visit(
      [&](const auto& c) -> Compiled {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, config::AddPrefix>) {
          return make_add_prefix(c);
        } else if constexpr (std::is_same_v<T, config::StripPrefix>) {
          return make_strip_prefix(c);
        } else if constexpr (std::is_same_v<T, config::StripPrefixRegex>) {
          return make_strip_prefix_regex(c);
        } else if constexpr (std::is_same_v<T, config::ReplacePath>) {
          return make_replace_path(c);
        } else if constexpr (std::is_same_v<T, config::ReplacePathRegex>) {
          return make_replace_path_regex(c);
        } else if constexpr (std::is_same_v<T, config::RedirectScheme>) {
          return make_redirect_scheme(c);
        } else if constexpr (std::is_same_v<T, config::RedirectRegex>) {
          return make_redirect_regex(c);
        } else if constexpr (std::is_same_v<T, config::Headers>) {
          return make_headers(c);
        } else if constexpr (std::is_same_v<T, config::BasicAuth>) {
          return make_basic_auth(c);
        } else if constexpr (std::is_same_v<T, config::IpAllowList>) {
          return make_ip_allow_list(c);
        } else if constexpr (std::is_same_v<T, config::RateLimit>) {
          return make_rate_limit(name, definition, c, environment);
        } else if constexpr (std::is_same_v<T, config::InFlightReq>) {
          return make_in_flight(name, definition, c, environment);
        } else if constexpr (std::is_same_v<T, config::Retry>) {
          return make_retry(c);
        } else if constexpr (std::is_same_v<T, config::Compress>) {
          return make_compress(c);
        } else if constexpr (std::is_same_v<T, config::CircuitBreaker>) {
          return make_circuit_breaker(name, definition, c, environment);
        } else if constexpr (std::is_same_v<T, config::Buffering>) {
          return make_buffering(c);
        } else if constexpr (std::is_same_v<T, config::ForwardAuth>) {
          return make_forward_auth(c);
        } else {
          return std::string("a chain is not a single middleware");
        }
      },
      definition.kind);
}

namespace {

std::string resolve(std::string_view reference, std::string_view provider) {
  if (reference.find('@') != std::string_view::npos || provider.empty()) {
    return std::string(reference);
  }
  return config::qualify(reference, provider);
}

struct Builder {
  const std::map<std::string, config::Middleware>& definitions;
  const Environment& environment;
  std::vector<MiddlewarePtr> compiled;
  std::vector<MiddlewareError> errors;
  std::vector<std::string> path;  ///< chains being expanded, to catch cycles

  void add(std::string_view reference, std::string_view provider) {
    const std::string name = resolve(reference, provider);
    const auto it = definitions.find(name);
    if (it == definitions.end()) {
      errors.push_back({name, "middleware \"" + name + "\" does not exist"});
      return;
    }
    if (const auto* chain = std::get_if<config::Chain>(&it->second.kind)) {
      if (std::find(path.begin(), path.end(), name) != path.end()) {
        errors.push_back({name, "recursion detected in chain \"" + name + "\""});
        return;
      }
      path.push_back(name);
      // References inside a chain resolve within the chain's own provider.
      const auto chain_provider = config::split_qualified(name).provider;
      for (const auto& child : chain->middlewares) add(child, chain_provider);
      path.pop_back();
      return;
    }
    auto result = compile(name, it->second, environment);
    if (auto* error = std::get_if<std::string>(&result)) {
      errors.push_back({name, std::move(*error)});
      return;
    }
    compiled.push_back(std::move(std::get<MiddlewarePtr>(result)));
  }
};

}  // namespace

BuildResult build_chain(std::span<const std::string> names, std::string_view provider,
                        const std::map<std::string, config::Middleware>& middlewares,
                        const Environment& environment) {
  Builder builder{middlewares, environment, {}, {}, {}};
  for (const auto& name : names) builder.add(name, provider);
  BuildResult result;
  if (builder.errors.empty()) {
    result.chain = std::make_shared<const Chain>(std::move(builder.compiled));
  }
  result.errors = std::move(builder.errors);
  return result;
}

runtime::ChainFactory chain_factory(Environment environment) {
  return [environment = std::move(environment)](
             std::span<const std::string> names, std::string_view provider,
             const std::map<std::string, config::Middleware>& middlewares) {
    auto built = build_chain(names, provider, middlewares, environment);
    runtime::ChainResult result;
    for (auto& error : built.errors) {
      // Messages such as "does not exist" already name the middleware.
      if (error.message.find(error.middleware) != std::string::npos) {
        result.errors.push_back(std::move(error.message));
      } else {
        result.errors.push_back("middleware \"" + error.middleware + "\": " + error.message);
      }
    }
    if (result.errors.empty() && built.chain && !built.chain->empty()) {
      result.chain = std::move(built.chain);
    }
    return result;
  };
}

}  // namespace berth::middleware
