#pragma once
// Helpers shared by the label tests: containers built by hand and lookups into a Result.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "berth/labels/labels.hpp"

namespace berth::labels::test {

using LabelMap = std::map<std::string, std::string>;

/// A running container on one network `net` with IP `ip`, exposing TCP `port`.
inline ContainerInfo container(std::string name, LabelMap labels, std::string ip = "172.18.0.2",
                               std::uint16_t port = 80) {
  ContainerInfo c;
  c.id = std::string(64 - std::min<std::size_t>(name.size(), 64), '0') + name.substr(0, 64);
  c.name = std::move(name);
  c.labels = std::move(labels);
  c.state = "running";
  c.network_mode = "bridge";
  if (!ip.empty()) c.networks["net"] = ContainerNetwork{ip, ""};
  if (port != 0) c.ports.push_back(ContainerPort{port, "tcp", "", ""});
  return c;
}

inline Result build(const std::vector<ContainerInfo>& containers,
                    const ProviderOptions& options = {}) {
  return build_configuration(containers, options);
}

inline Result build_one(const ContainerInfo& c, const ProviderOptions& options = {}) {
  return build_configuration(std::span(&c, 1), options);
}

/// The diagnostics whose message contains `text`.
inline std::vector<config::Diagnostic> diagnostics_with(const Result& result,
                                                        const std::string& text) {
  std::vector<config::Diagnostic> found;
  for (const auto& d : result.diagnostics) {
    if (d.message.find(text) != std::string::npos) found.push_back(d);
  }
  return found;
}

inline bool has_diagnostic(const Result& result, const std::string& text) {
  return !diagnostics_with(result, text).empty();
}

/// All diagnostic messages, one per line, for failure output.
inline std::string dump(const Result& result) {
  std::string out;
  for (const auto& d : result.diagnostics) out += d.name + ": " + d.message + "\n";
  for (const auto& c : result.containers) {
    out += "container " + c.name + (c.routed ? " routed: " : " not routed: ") + c.reason + "\n";
  }
  return out;
}

inline const config::LoadBalancer* load_balancer(const Result& result, const std::string& name) {
  auto it = result.configuration.http.services.find(name);
  if (it == result.configuration.http.services.end()) return nullptr;
  return std::get_if<config::LoadBalancer>(&it->second.kind);
}

inline std::vector<std::string> server_urls(const Result& result, const std::string& name) {
  std::vector<std::string> urls;
  if (const auto* lb = load_balancer(result, name)) {
    for (const auto& s : lb->servers) urls.push_back(s.url);
  }
  return urls;
}

inline const ContainerDecision* decision(const Result& result, const std::string& name) {
  for (const auto& c : result.containers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace berth::labels::test
