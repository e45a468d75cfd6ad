#include <string>

#include "berth/config/dynamic.hpp"

namespace berth::config {

std::string qualify(std::string_view name, std::string_view provider) {
  if (name.find('@') != std::string_view::npos) return std::string{name};
  std::string out{name};
  out += '@';
  out += provider;
  return out;
}

QualifiedName split_qualified(std::string_view qualified) {
  // Traefik splits at the first '@'; everything after it names the provider.
  const auto at = qualified.find('@');
  if (at == std::string_view::npos) return {qualified, {}};
  return {qualified.substr(0, at), qualified.substr(at + 1)};
}

namespace {

void qualify_all(StringList& names, std::string_view provider) {
  for (std::string& name : names) name = qualify(name, provider);
}

}  // namespace

void add_qualified(Configuration& into, const Configuration& from, std::string_view provider) {
  for (const auto& [name, router] : from.http.routers) {
    Router copy = router;
    if (!copy.service.empty()) copy.service = qualify(copy.service, provider);
    qualify_all(copy.middlewares, provider);
    into.http.routers.insert_or_assign(qualify(name, provider), std::move(copy));
  }
  for (const auto& [name, service] : from.http.services) {
    Service copy = service;
    // A weighted service's children are resolved within its provider, like a router's service.
    if (auto* weighted = std::get_if<Weighted>(&copy.kind)) {
      for (WeightedServiceRef& child : weighted->services) {
        child.name = qualify(child.name, provider);
      }
    }
    into.http.services.insert_or_assign(qualify(name, provider), std::move(copy));
  }
  for (const auto& [name, middleware] : from.http.middlewares) {
    Middleware copy = middleware;
    if (auto* chain = std::get_if<Chain>(&copy.kind)) qualify_all(chain->middlewares, provider);
    into.http.middlewares.insert_or_assign(qualify(name, provider), std::move(copy));
  }
}

}  // namespace berth::config
