#include "run.hpp"

#include <pthread.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "berth/api/server.hpp"
#include "berth/app/version.hpp"
#include "berth/docker/client.hpp"
#include "berth/docker/provider.hpp"
#include "berth/file/provider.hpp"
#include "berth/log/log.hpp"
#include "berth/proxy/server.hpp"
#include "controller.hpp"
#include "metrics.hpp"

namespace berth::app {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void configure_logging(const config::Log& configuration) {
  log::Level level = log::Level::error;
  log::parse_level(configuration.level, level);  // validated with the static configuration
  log::configure(level, configuration.format == "json" ? log::Format::json : log::Format::common);
}

/// Blocks SIGINT and SIGTERM in this thread and every thread it starts, so that only sigwait()
/// sees them; SIGPIPE is ignored (a peer closing a socket is an error code, not a signal).
sigset_t block_shutdown_signals() {
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

/// The validated accessLog section as the proxy takes it.
proxy::AccessLogOptions access_log_options(const config::AccessLog& access_log) {
  const auto mode = [](const std::string& name) {
    if (name == "drop") return proxy::FieldMode::drop;
    return name == "redact" ? proxy::FieldMode::redact : proxy::FieldMode::keep;
  };
  proxy::AccessLogOptions log;
  log.file_path = access_log.file_path;
  log.format =
      access_log.format == "json" ? proxy::AccessLogFormat::json : proxy::AccessLogFormat::common;
  for (const auto& range : access_log.filters.status_codes) {
    // validate() accepted every range.
    log.filters.status_codes.push_back(config::parse_status_code_range(range).value());
  }
  log.filters.retry_attempts = access_log.filters.retry_attempts;
  log.filters.min_duration = access_log.filters.min_duration;
  const auto& fields = access_log.fields;
  log.fields.default_mode = mode(fields.default_mode);
  for (const auto& [name, field_mode] : fields.names) {
    log.fields.names.emplace_back(name, mode(field_mode));
  }
  log.fields.headers_default_mode = mode(fields.headers.default_mode);
  for (const auto& [name, header_mode] : fields.headers.names) {
    log.fields.headers.emplace_back(name, mode(header_mode));
  }
  return log;
}

proxy::ServerOptions proxy_options(const config::StaticConfiguration& configuration,
                                   const EntryPointPlan& plan) {
  proxy::ServerOptions options;
  for (const std::string& name : plan.proxied) {
    const config::EntryPoint& entry_point = configuration.entry_points.at(name);
    const auto& timeouts = entry_point.transport.responding_timeouts;
    proxy::EntryPointOptions entry;
    entry.name = name;
    entry.address = entry_point.address;
    entry.read_timeout = duration_cast<milliseconds>(timeouts.read_timeout);
    entry.write_timeout = duration_cast<milliseconds>(timeouts.write_timeout);
    entry.idle_timeout = duration_cast<milliseconds>(timeouts.idle_timeout);
    entry.trust_forwarded_headers = entry_point.forwarded_headers.insecure;
    if (const auto& redirection = entry_point.http.redirection) {
      proxy::RedirectOptions redirect;
      redirect.scheme = redirection->scheme;
      redirect.permanent = redirection->permanent;
      redirect.priority = redirection->priority;
      // `to` names an entry point, or is a bare port such as ":443".
      if (!redirection->to.empty() && redirection->to.front() == ':') {
        redirect.port = static_cast<std::uint16_t>(std::stoi(redirection->to.substr(1)));
      } else {
        redirect.entry_point = redirection->to;
      }
      entry.redirect = std::move(redirect);
    }
    options.entry_points.push_back(std::move(entry));
  }
  options.workers = static_cast<unsigned>(configuration.workers);
  const auto& transport = configuration.servers_transport;
  options.transport.dial_timeout =
      duration_cast<milliseconds>(transport.forwarding_timeouts.dial_timeout);
  options.transport.response_header_timeout =
      duration_cast<milliseconds>(transport.forwarding_timeouts.response_header_timeout);
  options.transport.idle_conn_timeout =
      duration_cast<milliseconds>(transport.forwarding_timeouts.idle_conn_timeout);
  options.transport.max_idle_conns_per_host =
      static_cast<std::size_t>(transport.max_idle_conns_per_host);
  options.transport.insecure_skip_verify = transport.insecure_skip_verify;
  if (const auto& prometheus = configuration.metrics.prometheus) {
    options.metrics = {true, prometheus->add_entry_points_labels, prometheus->add_routers_labels,
                       prometheus->add_services_labels};
  }
  if (configuration.access_log) options.access_log = access_log_options(*configuration.access_log);
  return options;
}

/// `with_api`: whether this server answers /api and the dashboard (the `traefik` entry point's
/// server does only with api.insecure; the internal one whenever the API is on).
api::ServerOptions api_options(const config::StaticConfiguration& configuration,
                               std::string address, bool with_api) {
  api::ServerOptions options;
  options.address = std::move(address);
  options.api = with_api;
  options.dashboard = options.api && configuration.api->dashboard;
  if (configuration.api) options.base_path = configuration.api->base_path;
  options.ping = configuration.ping.has_value();
  if (configuration.ping) {
    options.ping_terminating_status =
        static_cast<unsigned>(configuration.ping->terminating_status_code);
  }
  options.metrics = configuration.metrics.prometheus.has_value();
  options.version.version = std::string{version};
  return options;
}

docker::ProviderSettings docker_settings(const config::StaticConfiguration& configuration,
                                         std::shared_ptr<docker::ProviderCounters> counters) {
  const config::DockerProvider& docker = *configuration.providers.docker;
  docker::ProviderSettings settings;
  settings.options.exposed_by_default = docker.exposed_by_default;
  settings.options.network = docker.network;
  settings.options.default_rule = docker.default_rule;
  settings.options.constraints = docker.constraints;
  settings.options.allow_empty_services = docker.allow_empty_services;
  settings.options.use_bind_port_ip = docker.use_bind_port_ip;
  settings.throttle =
      duration_cast<milliseconds>(configuration.providers.providers_throttle_duration);
  settings.counters = std::move(counters);
  return settings;
}

docker::Endpoint docker_endpoint(const config::DockerProvider& docker) {
  std::optional<docker::TlsOptions> tls;
  if (docker.tls) {
    tls = docker::TlsOptions{docker.tls->ca, docker.tls->cert, docker.tls->key,
                             docker.tls->insecure_skip_verify};
  }
  // The flag's default stands for "not configured", so that DOCKER_HOST can apply.
  const std::string_view configured =
      docker.endpoint == docker::default_endpoint ? std::string_view{} : docker.endpoint;
  auto endpoint = docker::resolve_endpoint(configured, tls, docker::process_environment);
  if (auto* error = std::get_if<docker::EndpointError>(&endpoint)) {
    throw config::StaticConfigError("providers.docker.endpoint: " + error->message);
  }
  return std::get<docker::Endpoint>(std::move(endpoint));
}

milliseconds grace_period(const config::StaticConfiguration& configuration) {
  milliseconds grace{0};
  for (const auto& [name, entry_point] : configuration.entry_points) {
    grace =
        std::max(grace, duration_cast<milliseconds>(entry_point.transport.lifecycle.grace_timeout));
  }
  return grace;
}

milliseconds accept_grace_period(const config::StaticConfiguration& configuration) {
  milliseconds grace{0};
  for (const auto& [name, entry_point] : configuration.entry_points) {
    grace = std::max(grace, duration_cast<milliseconds>(
                                entry_point.transport.lifecycle.request_accept_grace_timeout));
  }
  return grace;
}

}  // namespace

int run(const config::StaticConfiguration& configuration) {
  configure_logging(configuration.log);
  for (const auto& [name, resolver] : configuration.certificates_resolvers) {
    log::warn("berth",
              "certificatesResolvers.{}: berth obtains no ACME certificates; TLS routers that name "
              "it are served with the file provider's certificates, else a generated default one",
              name);
  }
  const sigset_t signals = block_shutdown_signals();
  const EntryPointPlan plan = plan_entry_points(configuration);

  std::unique_ptr<proxy::Server> proxy;
  /// The Docker provider's counters, for /metrics.
  const auto docker_counters = std::make_shared<docker::ProviderCounters>();
  std::unique_ptr<api::Server> api;
  std::unique_ptr<api::Server> internal_api;  ///< behind routers that use api@internal & co.
  try {
    const proxy::ServerOptions data_plane = proxy_options(configuration, plan);
    proxy = std::make_unique<proxy::Server>(data_plane);
    const auto with_request_metrics = [&](api::ServerOptions options) {
      if (options.metrics) {
        // The proxy outlives the API servers (it is declared first), and a stopped proxy still
        // answers from its workers' tables.
        options.metrics_source = [data = proxy.get(), metrics = data_plane.metrics,
                                  access_log = data_plane.access_log.has_value(),
                                  docker = configuration.providers.docker.has_value(),
                                  docker_counters] {
          auto families = request_families(data->collect_metrics(std::chrono::milliseconds{500}),
                                           metrics, access_log);
          if (docker) {
            for (auto& family : docker_families(*docker_counters)) {
              families.push_back(std::move(family));
            }
          }
          return families;
        };
      }
      return options;
    };
    if (plan.internal) {
      api = std::make_unique<api::Server>(with_request_metrics(
          api_options(configuration, configuration.entry_points.at(*plan.internal).address,
                      configuration.api && configuration.api->insecure)));
    }
    if (configuration.api || configuration.ping || configuration.metrics.prometheus) {
      internal_api = std::make_unique<api::Server>(with_request_metrics(
          api_options(configuration, "127.0.0.1:0", configuration.api.has_value())));
    }
  } catch (const std::exception& error) {
    // Asio reports resolve and bind failures without the address, so name them all here.
    std::string addresses;
    for (const auto& [name, entry_point] : configuration.entry_points) {
      addresses += fmt::format("{}{}={}", addresses.empty() ? "" : ", ", name, entry_point.address);
    }
    std::fprintf(stderr, "berth: cannot listen on the entry points (%s): %s\n", addresses.c_str(),
                 error.what());
    return 1;
  }

  std::vector<api::Server*> apis;
  for (const auto& server : {api.get(), internal_api.get()}) {
    if (server != nullptr) {
      server->start();
      apis.push_back(server);
    }
  }
  Controller controller(configuration, plan, *proxy, std::move(apis));
  proxy->start();
  // The bound port, not the configured one, so that ":0" (tests, benchmarks) can be found.
  for (const auto& [name, entry_point] : configuration.entry_points) {
    const std::optional<std::uint16_t> port =
        plan.internal && name == *plan.internal ? std::optional{api->port()} : proxy->port(name);
    log::info("berth", "entry point {} listening on {} (port {})", name, entry_point.address,
              port.value_or(0));
  }
  const std::string internal_url =
      internal_api ? fmt::format("http://127.0.0.1:{}", internal_api->port()) : std::string{};
  controller.update(ProviderOutput{"internal", internal_services(configuration, internal_url), {}});

  std::unique_ptr<docker::Client> docker_client;
  std::unique_ptr<docker::Provider> docker_provider;
  if (configuration.providers.docker) {
    docker_client = std::make_unique<docker::Client>(
        docker::ClientOptions{docker_endpoint(*configuration.providers.docker)});
    docker_provider = std::make_unique<docker::Provider>(
        *docker_client, docker_settings(configuration, docker_counters),
        [&controller](std::shared_ptr<const docker::ProviderUpdate> update) {
          controller.update(
              ProviderOutput{"docker", update->result.configuration, update->result.diagnostics},
              update->result.containers);
        });
    docker_provider->start();
  }

  std::unique_ptr<file::Provider> file_provider;
  if (configuration.providers.file) {
    try {
      file_provider = std::make_unique<file::Provider>(
          file::Provider::Options{*configuration.providers.file},
          [&controller](std::shared_ptr<const file::FileUpdate> update) {
            controller.update_tls(update->tls);
            controller.update(ProviderOutput{"file", update->configuration, update->diagnostics});
          });
      file_provider->start();
    } catch (const std::exception& error) {
      throw config::StaticConfigError(std::string{"providers.file: "} + error.what());
    }
  }

  int received = 0;
  sigwait(&signals, &received);
  log::info("berth", "{} received, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");

  for (const auto& server : {api.get(), internal_api.get()}) {
    if (server != nullptr) server->begin_shutdown();
  }
  std::this_thread::sleep_for(accept_grace_period(configuration));
  if (docker_provider) docker_provider->stop();
  if (file_provider) file_provider->stop();
  controller.stop_health_checks();
  proxy->stop(grace_period(configuration));
  if (api) api->stop();
  if (internal_api) internal_api->stop();
  return 0;
}

}  // namespace berth::app
