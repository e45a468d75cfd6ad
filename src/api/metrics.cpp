#include "berth/api/metrics.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "resources.hpp"

namespace berth::api {

namespace {

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

void render(std::string& out, const MetricFamily& family) {
  if (!valid_name(family.name, true)) return;
  const bool histogram = family.type == "histogram";
  const std::string_view type = family.type == "counter" || family.type == "gauge" || histogram
                                    ? std::string_view{family.type}
                                    : "untyped";
  if (!family.help.empty())
    out += fmt::format("# HELP {} {}\n", family.name, escape_help(family.help));
  out += fmt::format("# TYPE {} {}\n", family.name, type);
  for (const MetricSample& sample : family.samples) {
    const std::string_view suffix = histogram ? std::string_view{sample.suffix} : "";
    if (histogram && suffix != "_bucket" && suffix != "_sum" && suffix != "_count") continue;
    std::string labels;
    for (const auto& [name, value] : sample.labels) {
      // A bad label name would make the whole scrape unparsable: drop the label, keep the sample.
      if (!valid_name(name, false)) continue;
      labels += labels.empty() ? "{" : ",";
      labels += fmt::format("{}=\"{}\"", name, escape_label(value));
    }
    if (!labels.empty()) labels += "}";
    out += fmt::format("{}{}{} {}\n", family.name, suffix, labels, format_value(sample.value));
  }
}

MetricFamily by_status(std::string name, std::string help,
                       const std::map<std::string, Item>& items) {
  std::map<std::string_view, double> counts{
      {status_enabled, 0}, {status_warning, 0}, {status_disabled, 0}};
  for (const auto& [key, item] : items) {
    auto status = item.body.find("status");
    if (status != item.body.end() && status->is_string()) {
      auto it = counts.find(status->get<std::string>());
      if (it != counts.end()) ++it->second;
    }
  }
  MetricFamily family{std::move(name), std::move(help), "gauge", {}};
  for (const auto& [status, count] : counts) {
    family.samples.push_back({{{"status", std::string{status}}}, count});
  }
  return family;
}

}  // namespace

std::string render_metrics(const State& state, const std::vector<MetricFamily>& extra) {
  const Resources resources = build_resources(state);
  std::vector<MetricFamily> families;
  families.push_back({"traefik_config_reloads_total",
                      "Config reloads",
                      "counter",
                      {{{}, static_cast<double>(state.reloads)}}});
  const double last_reload =
      std::chrono::duration<double>(state.updated.time_since_epoch()).count();
  families.push_back({"traefik_config_last_reload_success",
                      "Last config reload success",
                      "gauge",
                      {{{}, last_reload}}});
  families.push_back(by_status("berth_http_routers", "HTTP routers by status.", resources.routers));
  families.push_back(
      by_status("berth_http_services", "HTTP services by status.", resources.services));
  families.push_back(
      by_status("berth_http_middlewares", "HTTP middlewares by status.", resources.middlewares));

  MetricFamily up{"traefik_service_server_up",
                  "Whether a server of a service takes new requests (1) or not (0: down or "
                  "draining).",
                  "gauge",
                  {}};
  for (const auto& [name, service] : state.configuration.http.services) {
    const auto* balancer = std::get_if<config::LoadBalancer>(&service.kind);
    if (balancer == nullptr) continue;
    for (const config::Server& server : balancer->servers) {
      auto status = state.server_status.find(server.url);
      if (status == state.server_status.end()) continue;
      up.samples.push_back(
          {{{"service", name}, {"url", server.url}}, status->second == server_up ? 1.0 : 0.0});
    }
  }
  families.push_back(std::move(up));

  double routed = 0;
  double excluded = 0;
  double draining = 0;
  for (const labels::ContainerDecision& container : state.containers) {
    (container.routed ? routed : excluded) += 1;
    if (container.draining) draining += 1;
  }
  families.push_back({"berth_containers",
                      "Containers the Docker provider knows, routed or not.",
                      "gauge",
                      {{{{"routed", "true"}}, routed}, {{{"routed", "false"}}, excluded}}});
  families.push_back({"berth_containers_draining",
                      "Containers stopping: their servers take no new requests, requests in flight "
                      "finish.",
                      "gauge",
                      {{{}, draining}}});

  std::string out;
  std::set<std::string_view> seen;
  // A family name may appear once per scrape: a repeat from `extra` is dropped.
  const std::vector<MetricFamily>* lists[] = {&families, &extra};
  for (const std::vector<MetricFamily>* list : lists) {
    for (const MetricFamily& family : *list) {
      if (seen.insert(family.name).second) render(out, family);
    }
  }
  return out;
}

}  // namespace berth::api
