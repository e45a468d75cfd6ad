// Path rewriting and redirects: addPrefix, stripPrefix, stripPrefixRegex, replacePath,
// replacePathRegex, redirectScheme, redirectRegex.
//
// Traefik edits Go's decoded URL.Path and its RawPath together; berth edits the raw path the client
// sent, which is the same thing for every prefix or pattern made of unreserved characters.

#include <variant>

#include "middleware.hpp"
#include "regex.hpp"

namespace berth::middleware {
namespace {

using Regex = std::shared_ptr<const re2::RE2>;

constexpr std::string_view forwarded_prefix = "X-Forwarded-Prefix";
constexpr std::string_view replaced_path = "X-Replaced-Path";

std::string_view path_of(const RequestHeader& request) {
  return split_target(request.target()).path;
}

class AddPrefix final : public Middleware {
 public:
  explicit AddPrefix(std::string prefix) : prefix_(std::move(prefix)) {}
  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto path = path_of(context.request);
    std::string joined;
    joined.reserve(prefix_.size() + path.size());
    joined.append(prefix_).append(path);
    set_path(context.request, ensure_leading_slash(joined));
    return std::nullopt;
  }

 private:
  std::string prefix_;
};

class StripPrefix final : public Middleware {
 public:
  StripPrefix(std::vector<std::string> prefixes, bool force_slash)
      : prefixes_(std::move(prefixes)), force_slash_(force_slash) {}
  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto path = path_of(context.request);
    for (const auto& prefix : prefixes_) {
      if (!path.starts_with(prefix)) continue;
      auto rest = path.substr(prefix.size());
      std::string stripped;
      if (force_slash_) {
        // Traefik's legacy behaviour: always a leading slash, exactly one.
        if (rest.starts_with('/')) rest.remove_prefix(1);
        stripped = "/" + std::string(rest);
      } else {
        stripped = ensure_leading_slash(rest);
      }
      context.request.insert(forwarded_prefix, trim(prefix));
      set_path(context.request, stripped);
      return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::string> prefixes_;
  bool force_slash_;
};

class StripPrefixRegex final : public Middleware {
 public:
  explicit StripPrefixRegex(std::vector<Regex> expressions)
      : expressions_(std::move(expressions)) {}
  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto path = path_of(context.request);
    for (const auto& re : expressions_) {
      const auto match = find_submatch(*re, path);
      if (match.empty() || !match[0] || match[0]->empty()) continue;
      const auto prefix = *match[0];
      // Only a match at the start of the path is a prefix.
      if (prefix.data() != path.data()) continue;
      context.request.insert(forwarded_prefix, prefix);
      set_path(context.request, ensure_leading_slash(path.substr(prefix.size())));
      return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  std::vector<Regex> expressions_;
};

class ReplacePath final : public Middleware {
 public:
  explicit ReplacePath(std::string path) : path_(std::move(path)) {}
  std::optional<Decision> on_request(RequestContext& context) const override {
    context.request.insert(replaced_path, path_of(context.request));
    set_path(context.request, path_);
    return std::nullopt;
  }

 private:
  std::string path_;
};

class ReplacePathRegex final : public Middleware {
 public:
  ReplacePathRegex(Regex re, std::string replacement)
      : re_(std::move(re)), replacement_(std::move(replacement)) {}
  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto path = path_of(context.request);
    if (replacement_.empty() ||
        !re2::RE2::PartialMatch(re2::StringPiece(path.data(), path.size()), *re_)) {
      return std::nullopt;
    }
    const std::string original(path);
    context.request.insert(replaced_path, original);
    set_path(context.request, replace_all(*re_, original, replacement_));
    return std::nullopt;
  }

 private:
  Regex re_;
  std::string replacement_;
};

// ---------------------------------------------------------------------------------------------
// Redirects

/// Traefik's answer: Location, 302/307 (301/308 when permanent; the second for non-GET methods),
/// and the status text as body.
Decision redirect(const RequestContext& context, std::string location, bool permanent) {
  const bool get = context.request.method() == http::verb::get;
  http::status status = get ? http::status::found : http::status::temporary_redirect;
  if (permanent) status = get ? http::status::moved_permanently : http::status::permanent_redirect;
  auto response =
      make_response(status, std::string(http::obsolete_reason(status)), context.request.version());
  response.set(http::field::location, location);
  return Respond{std::move(response)};
}

struct UrlParts {
  std::string scheme;
  std::string_view host;
  std::string_view port;  ///< with ':' or empty
  std::string_view uri;
};

/// The request URL as Traefik's redirect middlewares reconstruct it.
UrlParts url_parts(const RequestContext& context) {
  UrlParts parts;
  parts.scheme = context.tls ? "https" : "http";
  const auto target = split_target(context.request.target());
  std::string_view host = context.request[http::field::host];
  if (!target.prefix.empty()) {
    const auto sep = target.prefix.find("://");
    host = target.prefix.substr(sep + 3);
  }
  // Split "host:port" keeping IPv6 brackets.
  std::size_t colon = std::string_view::npos;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close != std::string_view::npos && close + 1 < host.size() && host[close + 1] == ':') {
      colon = close + 1;
    }
  } else if (host.find(':') == host.rfind(':')) {
    colon = host.find(':');
  }
  if (colon != std::string_view::npos) {
    parts.port = host.substr(colon);
    host = host.substr(0, colon);
  }
  parts.host = host;
  const auto& raw = context.request.target();
  parts.uri = target.prefix.empty() ? std::string_view(raw.data(), raw.size())
                                    : std::string_view(raw).substr(target.prefix.size());
  return parts;
}

class RedirectScheme final : public Middleware {
 public:
  RedirectScheme(std::string scheme, std::string port, bool permanent)
      : scheme_(std::move(scheme)), port_(std::move(port)), permanent_(permanent) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    auto parts = url_parts(context);
    // X-Forwarded-Proto (trusted, or set by an earlier hop) tells the scheme the client used.
    if (auto proto = context.request["X-Forwarded-Proto"]; !proto.empty()) {
      if (iequals(proto, "http") || iequals(proto, "ws")) {
        parts.scheme = "http";
      } else if (iequals(proto, "https") || iequals(proto, "wss")) {
        parts.scheme = "https";
      }
    }
    if ((parts.scheme == "http" && parts.port == ":80") ||
        (parts.scheme == "https" && parts.port == ":443")) {
      parts.port = {};
    }
    std::string old_url = parts.scheme + "://";
    old_url.append(parts.host).append(parts.port).append(parts.uri);
    std::string new_url = scheme_ + "://";
    new_url.append(parts.host).append(port_).append(parts.uri);
    if (new_url == old_url) return std::nullopt;
    return redirect(context, std::move(new_url), permanent_);
  }

 private:
  std::string scheme_;
  std::string port_;  ///< ":port", or empty for the scheme's default
  bool permanent_;
};

class RedirectRegex final : public Middleware {
 public:
  RedirectRegex(Regex re, std::string replacement, bool permanent)
      : re_(std::move(re)), replacement_(std::move(replacement)), permanent_(permanent) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto parts = url_parts(context);
    std::string old_url = parts.scheme + "://";
    old_url.append(parts.host).append(parts.port).append(parts.uri);
    if (!re2::RE2::PartialMatch(old_url, *re_)) return std::nullopt;
    auto new_url = replace_all(*re_, old_url, replacement_);
    if (new_url == old_url) return std::nullopt;
    return redirect(context, std::move(new_url), permanent_);
  }

 private:
  Regex re_;
  std::string replacement_;
  bool permanent_;
};

}  // namespace

Compiled make_add_prefix(const config::AddPrefix& c) {
  if (c.prefix.empty()) return std::string("prefix cannot be empty");
  return std::make_shared<const AddPrefix>(c.prefix);
}

Compiled make_strip_prefix(const config::StripPrefix& c) {
  // forceSlash is deprecated in Traefik v3 and off unless set.
  return std::make_shared<const StripPrefix>(c.prefixes, c.force_slash.value_or(false));
}

Compiled make_strip_prefix_regex(const config::StripPrefixRegex& c) {
  std::vector<Regex> expressions;
  for (const auto& pattern : c.regex) {
    auto re = compile_regex(std::string(trim(pattern)));
    if (auto* error = std::get_if<std::string>(&re)) return std::move(*error);
    expressions.push_back(std::move(std::get<Regex>(re)));
  }
  return std::make_shared<const StripPrefixRegex>(std::move(expressions));
}

Compiled make_replace_path(const config::ReplacePath& c) {
  return std::make_shared<const ReplacePath>(c.path);
}

Compiled make_replace_path_regex(const config::ReplacePathRegex& c) {
  auto re = compile_regex(std::string(trim(c.regex)));
  if (auto* error = std::get_if<std::string>(&re)) return std::move(*error);
  return std::make_shared<const ReplacePathRegex>(std::move(std::get<Regex>(re)),
                                                  std::string(trim(c.replacement)));
}

Compiled make_redirect_scheme(const config::RedirectScheme& c) {
  if (c.scheme.empty()) return std::string("you must provide a target scheme");
  std::string port;
  if (!c.port.empty() && !(c.scheme == "http" && c.port == "80") &&
      !(c.scheme == "https" && c.port == "443")) {
    if (c.port.find_first_not_of("0123456789") != std::string::npos) {
      return "invalid port \"" + c.port + "\"";
    }
    port = ":" + c.port;
  }
  return std::make_shared<const RedirectScheme>(c.scheme, std::move(port), c.permanent);
}

Compiled make_redirect_regex(const config::RedirectRegex& c) {
  auto re = compile_regex(c.regex);
  if (auto* error = std::get_if<std::string>(&re)) return std::move(*error);
  return std::make_shared<const RedirectRegex>(std::move(std::get<Regex>(re)),
                                               std::string(trim(c.replacement)), c.permanent);
}

}  // namespace berth::middleware
