#pragma once
// A problem found while producing or checking a configuration, attached to the resource it concerns
// so that only that resource is dropped or disabled, and the API can show why.

#include <string>
#include <string_view>
#include <vector>

namespace berth::config {

enum class ResourceKind { router, service, middleware, container, provider };

/// "router", "service", ...: how messages and the API name the kind.
constexpr std::string_view to_string(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::router:
      return "router";
    case ResourceKind::service:
      return "service";
    case ResourceKind::middleware:
      return "middleware";
    case ResourceKind::container:
      return "container";
    case ResourceKind::provider:
      return "provider";
  }
  return "resource";
}

/// error: the resource is dropped; warning: kept, but something was guessed or ignored; info: a
/// note.
enum class Severity { error, warning, info };

struct Diagnostic {
  ResourceKind resource = ResourceKind::provider;
  std::string name;       ///< the resource's name (unqualified within a provider's output)
  std::string container;  ///< the container it came from, when it came from labels
  std::string message;
  Severity severity = Severity::error;
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace berth::config
