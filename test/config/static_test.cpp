#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "berth/config/static.hpp"
#include "berth/config/static_json.hpp"

using namespace berth::config;
using namespace std::chrono_literals;
using Args = std::vector<std::string>;

namespace {

StaticConfiguration from_flags(const Args& args) {
  return parse_static_configuration(args, {});
}
StaticConfiguration from_env(const Args& environment) {
  return parse_static_configuration({}, environment);
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const StaticConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

struct FlagRow {
  Args args;
  std::function<bool(const StaticConfiguration&)> check;
};

}  // namespace

TEST_CASE("defaults are Traefik's (and berth's throttle)") {
  const StaticConfiguration c = from_flags({});
  REQUIRE(c.entry_points.size() == 1);
  const EntryPoint& http = c.entry_points.at("http");
  CHECK(http.address == ":80");
  CHECK(http.transport.responding_timeouts.read_timeout == 60s);
  CHECK(http.transport.responding_timeouts.write_timeout == 0s);
  CHECK(http.transport.responding_timeouts.idle_timeout == 180s);
  CHECK(http.transport.lifecycle.request_accept_grace_timeout == 0s);
  CHECK(http.transport.lifecycle.grace_timeout == 10s);
  CHECK_FALSE(http.http.redirection.has_value());
  CHECK(c.servers_transport.forwarding_timeouts.dial_timeout == 30s);
  CHECK(c.servers_transport.forwarding_timeouts.response_header_timeout == 0s);
  CHECK(c.servers_transport.forwarding_timeouts.idle_conn_timeout == 90s);
  CHECK(c.servers_transport.max_idle_conns_per_host == 200);
  CHECK(c.providers.providers_throttle_duration == 50ms);
  CHECK_FALSE(c.providers.docker.has_value());
  CHECK_FALSE(c.api.has_value());
  CHECK_FALSE(c.ping.has_value());
  CHECK_FALSE(c.metrics.prometheus.has_value());
  CHECK_FALSE(c.access_log.has_value());
  CHECK(c.log.level == "ERROR");
  CHECK(c.log.format == "common");
  CHECK(c.workers == 0);
}

TEST_CASE("bare section flags enable sections with their defaults") {
  const StaticConfiguration c =
      from_flags({"--providers.docker", "--api", "--ping", "--metrics.prometheus", "--accesslog",
                  "--providers.file", "--entrypoints.web.address=:80"});
  REQUIRE(c.providers.docker.has_value());
  CHECK(c.providers.docker->endpoint == "unix:///var/run/docker.sock");
  CHECK(c.providers.docker->exposed_by_default);
  CHECK(c.providers.docker->default_rule == "Host(`{{ normalize .Name }}`)");
  CHECK(c.providers.docker->watch);
  CHECK_FALSE(c.providers.docker->allow_empty_services);
  CHECK_FALSE(c.providers.docker->use_bind_port_ip);
  CHECK(c.providers.docker->http_client_timeout == 0s);
  CHECK_FALSE(c.providers.docker->tls.has_value());
  REQUIRE(c.api.has_value());
  CHECK_FALSE(c.api->insecure);
  CHECK(c.api->dashboard);
  CHECK(c.api->base_path == "/");
  REQUIRE(c.ping.has_value());
  CHECK(c.ping->entry_point == "traefik");
  CHECK(c.ping->terminating_status_code == 503);
  REQUIRE(c.metrics.prometheus.has_value());
  CHECK(c.metrics.prometheus->entry_point == "traefik");
  CHECK(c.metrics.prometheus->add_entry_points_labels);
  CHECK_FALSE(c.metrics.prometheus->add_routers_labels);
  CHECK(c.metrics.prometheus->add_services_labels);
  REQUIRE(c.access_log.has_value());
  CHECK(c.access_log->format == "common");
  REQUIRE(c.providers.file.has_value());
  CHECK(c.providers.file->watch);
  // ping and prometheus use `traefik`, so it is created.
  CHECK(c.entry_points.at("traefik").address == ":8080");
  CHECK_FALSE(c.entry_points.contains("http"));
}

TEST_CASE("every flag family sets its field") {
  const auto row = GENERATE(values<FlagRow>({
      {{"--entryPoints.web.address=:8000"},
       [](const auto& c) { return c.entry_points.at("web").address == ":8000"; }},
      {{"--entrypoints.web.address=:80", "--entrypoints.web.asdefault"},
       [](const auto& c) { return c.entry_points.at("web").as_default; }},
      {{"--entrypoints.web.address=:80",
        "--entrypoints.web.transport.respondingtimeouts.readtimeout=5s",
        "--entrypoints.web.transport.respondingTimeouts.writeTimeout=7",
        "--entrypoints.web.transport.respondingTimeouts.idleTimeout=1m30s"},
       [](const auto& c) {
         const auto& t = c.entry_points.at("web").transport.responding_timeouts;
         return t.read_timeout == 5s && t.write_timeout == 7s && t.idle_timeout == 90s;
       }},
      {{"--entrypoints.web.address=:80",
        "--entrypoints.web.transport.lifecycle.requestacceptgracetimeout=2s",
        "--entrypoints.web.transport.lifecycle.gracetimeout=30s"},
       [](const auto& c) {
         const auto& l = c.entry_points.at("web").transport.lifecycle;
         return l.request_accept_grace_timeout == 2s && l.grace_timeout == 30s;
       }},
      {{"--entrypoints.web.address=:80", "--entrypoints.websecure.address=:443",
        "--entrypoints.web.http.redirections.entrypoint.to=websecure"},
       [](const auto& c) {
         const auto& r = c.entry_points.at("web").http.redirection;
         return r && r->to == "websecure" && r->scheme == "https" && r->permanent &&
                r->priority == std::numeric_limits<std::int64_t>::max() - 1;
       }},
      {{"--entrypoints.web.address=:80", "--entrypoints.web.http.redirections.entrypoint.to=:443",
        "--entrypoints.web.http.redirections.entrypoint.scheme=http",
        "--entrypoints.web.http.redirections.entrypoint.permanent=false",
        "--entrypoints.web.http.redirections.entrypoint.priority=10"},
       [](const auto& c) {
         const auto& r = c.entry_points.at("web").http.redirection;
         return r && r->to == ":443" && r->scheme == "http" && !r->permanent && r->priority == 10;
       }},
      {{"--entrypoints.websecure.address=:443", "--entrypoints.websecure.http.tls"},
       [](const auto& c) { return c.entry_points.at("websecure").http.tls; }},
      {{"--entrypoints.web.address=:80", "--entrypoints.web.forwardedheaders.insecure",
        "--entrypoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8,127.0.0.1",
        "--entrypoints.web.forwardedHeaders.trustedIPs=::1"},
       [](const auto& c) {
         const auto& f = c.entry_points.at("web").forwarded_headers;
         return f.insecure &&
                f.trusted_ips == std::vector<std::string>{"10.0.0.0/8", "127.0.0.1", "::1"};
       }},
      {{"--serverstransport.insecureskipverify", "--serversTransport.maxIdleConnsPerHost=16",
        "--serversTransport.forwardingTimeouts.dialTimeout=1s",
        "--serversTransport.forwardingTimeouts.responseHeaderTimeout=2s",
        "--serversTransport.forwardingTimeouts.idleConnTimeout=3s"},
       [](const auto& c) {
         const auto& s = c.servers_transport;
         return s.insecure_skip_verify && s.max_idle_conns_per_host == 16 &&
                s.forwarding_timeouts.dial_timeout == 1s &&
                s.forwarding_timeouts.response_header_timeout == 2s &&
                s.forwarding_timeouts.idle_conn_timeout == 3s;
       }},
      {{"--providers.providersthrottleduration=2s"},
       [](const auto& c) { return c.providers.providers_throttle_duration == 2s; }},
      {{"--providers.docker.endpoint=tcp://127.0.0.1:2375",
        "--providers.docker.exposedbydefault=false", "--providers.docker.network=proxy",
        "--providers.docker.defaultrule=Host(`{{ .Name }}.local`)",
        "--providers.docker.constraints=Label(`a`,`b`)", "--providers.docker.watch=false",
        "--providers.docker.allowemptyservices", "--providers.docker.usebindportip=true",
        "--providers.docker.httpclienttimeout=10s"},
       [](const auto& c) {
         const auto& d = c.providers.docker;
         return d && d->endpoint == "tcp://127.0.0.1:2375" && !d->exposed_by_default &&
                d->network == "proxy" && d->default_rule == "Host(`{{ .Name }}.local`)" &&
                d->constraints == "Label(`a`,`b`)" && !d->watch && d->allow_empty_services &&
                d->use_bind_port_ip && d->http_client_timeout == 10s;
       }},
      {{"--providers.docker.tls.ca=/ca.pem", "--providers.docker.tls.cert=/c.pem",
        "--providers.docker.tls.key=/k.pem", "--providers.docker.tls.insecureskipverify"},
       [](const auto& c) {
         const auto& t = c.providers.docker->tls;
         return t && t->ca == "/ca.pem" && t->cert == "/c.pem" && t->key == "/k.pem" &&
                t->insecure_skip_verify;
       }},
      {{"--providers.docker.tls"},
       [](const auto& c) { return c.providers.docker && c.providers.docker->tls.has_value(); }},
      {{"--providers.file.filename=/d.yml", "--providers.file.directory=/d",
        "--providers.file.watch=false"},
       [](const auto& c) {
         const auto& f = c.providers.file;
         return f && f->filename == "/d.yml" && f->directory == "/d" && !f->watch;
       }},
      {{"--api.insecure", "--api.dashboard=false", "--api.basepath=/traefik", "--api.debug"},
       [](const auto& c) {
         return c.api && c.api->insecure && !c.api->dashboard && c.api->base_path == "/traefik" &&
                c.api->debug && c.entry_points.at("traefik").address == ":8080";
       }},
      {{"--entrypoints.web.address=:80", "--ping.entrypoint=web",
        "--ping.terminatingstatuscode=204"},
       [](const auto& c) {
         return c.ping && c.ping->entry_point == "web" && c.ping->terminating_status_code == 204 &&
                !c.entry_points.contains("traefik");
       }},
      {{"--entrypoints.web.address=:80", "--metrics.prometheus.entrypoint=web",
        "--metrics.prometheus.addentrypointslabels=false", "--metrics.prometheus.addrouterslabels",
        "--metrics.prometheus.addserviceslabels=false"},
       [](const auto& c) {
         const auto& p = c.metrics.prometheus;
         return p && p->entry_point == "web" && !p->add_entry_points_labels &&
                p->add_routers_labels && !p->add_services_labels;
       }},
      {{"--accesslog.filepath=/a.log", "--accesslog.format=JSON", "--accesslog.bufferingsize=100"},
       [](const auto& c) {
         const auto& a = c.access_log;
         return a && a->file_path == "/a.log" && a->format == "json" && a->buffering_size == 100;
       }},
      {{"--log.level=debug", "--log.format=json", "--log.filepath=/l.log"},
       [](const auto& c) {
         return c.log.level == "DEBUG" && c.log.format == "json" && c.log.file_path == "/l.log";
       }},
      {{"--workers=4"}, [](const auto& c) { return c.workers == 4; }},
      {{"--certificatesresolvers.le.acme.email=ops@example.com",
        "--certificatesresolvers.le.acme.storage=/letsencrypt/acme.json",
        "--certificatesresolvers.le.acme.tlschallenge=true",
        "--certificatesresolvers.dns.acme.dnschallenge.provider=cloudflare",
        "--certificatesresolvers.dns.acme.dnschallenge.resolvers=1.1.1.1:53,8.8.8.8:53",
        "--certificatesResolvers.web.acme.httpChallenge.entryPoint=web"},
       [](const auto& c) {
         const auto& r = c.certificates_resolvers;
         if (r.size() != 3 || !r.at("le").acme || !r.at("dns").acme || !r.at("web").acme) {
           return false;
         }
         const Acme& le = *r.at("le").acme;
         const Acme& dns = *r.at("dns").acme;
         return le.email == "ops@example.com" && le.storage == "/letsencrypt/acme.json" &&
                le.tls_challenge && dns.dns_challenge_provider == "cloudflare" &&
                dns.dns_challenge_resolvers ==
                    std::vector<std::string>{"1.1.1.1:53", "8.8.8.8:53"} &&
                r.at("web").acme->http_challenge_entry_point == "web";
       }},
      {{"--global.checknewversion=false", "--global.sendanonymoususage"},
       [](const auto& c) { return !c.global.check_new_version && c.global.send_anonymous_usage; }},
  }));
  CAPTURE(row.args);
  CHECK(row.check(from_flags(row.args)));
}

TEST_CASE("flag syntax: single or double dash, =value or next argument, any case") {
  const auto args = GENERATE(values<Args>({
      {"--log.level=INFO"},
      {"-log.level=INFO"},
      {"--log.level", "INFO"},
      {"--LOG.LEVEL=info"},
      {"--Log.Level", "Info"},
  }));
  CAPTURE(args);
  CHECK(from_flags(args).log.level == "INFO");
}

TEST_CASE("bool flags accept Go's spellings; bare means true") {
  CHECK(from_flags({"--api.insecure"}).api->insecure);
  CHECK(from_flags({"--api.insecure=TRUE"}).api->insecure);
  CHECK(from_flags({"--api.insecure=1"}).api->insecure);
  CHECK(from_flags({"--api.insecure=t"}).api->insecure);
  CHECK_FALSE(from_flags({"--api.insecure=false"}).api->insecure);
  CHECK_FALSE(from_flags({"--api.insecure=0"}).api->insecure);
  CHECK_FALSE(from_flags({"--api", "--api=false"}).api.has_value());
}

TEST_CASE("entry point names keep their case from flags") {
  const auto c = from_flags({"--entryPoints.webSecure.address=:443"});
  CHECK(c.entry_points.contains("webSecure"));
}

TEST_CASE("environment variables: TRAEFIK_ and BERTH_, any case, BERTH_ wins") {
  const auto c = from_env(
      {"PATH=/bin", "TRAEFIK_ENTRYPOINTS_WEB_ADDRESS=:8000", "TRAEFIK_PROVIDERS_DOCKER=true",
       "TRAEFIK_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT=false", "traefik_log_level=info",
       "BERTH_LOG_LEVEL=warn", "BERTH_WORKERS=3", "TRAEFIK_ENTRYPOINTS_MY_EP_ADDRESS=:9000",
       "TRAEFIK_ENTRYPOINTS_WEB_FORWARDEDHEADERS_TRUSTEDIPS=1.2.3.4,5.6.7.8",
       "TRAEFIK_API_INSECURE=true"});
  CHECK(c.entry_points.at("web").address == ":8000");
  CHECK(c.entry_points.at("my_ep").address == ":9000");
  CHECK(c.entry_points.at("web").forwarded_headers.trusted_ips ==
        std::vector<std::string>{"1.2.3.4", "5.6.7.8"});
  REQUIRE(c.providers.docker.has_value());
  CHECK_FALSE(c.providers.docker->exposed_by_default);
  CHECK(c.log.level == "WARN");
  CHECK(c.workers == 3);
  CHECK(c.api->insecure);
  CHECK(c.entry_points.at("traefik").address == ":8080");
}

TEST_CASE("flags, when given, are the only source (as in Traefik)") {
  const auto c = parse_static_configuration({"--log.level=INFO"}, {"TRAEFIK_WORKERS=9"});
  CHECK(c.workers == 0);
  CHECK(c.log.level == "INFO");
}

TEST_CASE("effective configuration creates the entry points Traefik creates") {
  SECTION("none defined: http on :80") {
    StaticConfiguration c;
    set_effective_configuration(c);
    REQUIRE(c.entry_points.size() == 1);
    CHECK(c.entry_points.at("http").address == ":80");
  }
  SECTION("the API alone (not insecure) creates no traefik entry point") {
    const auto c = from_flags({"--api"});
    CHECK_FALSE(c.entry_points.contains("traefik"));
  }
  SECTION("an existing traefik entry point is kept") {
    const auto c = from_flags({"--entrypoints.traefik.address=:9090", "--api.insecure"});
    CHECK(c.entry_points.at("traefik").address == ":9090");
    CHECK(c.entry_points.size() == 1);
  }
  SECTION("ping on another entry point does not create traefik") {
    const auto c = from_flags({"--entrypoints.web.address=:80", "--ping.entrypoint=web"});
    CHECK_FALSE(c.entry_points.contains("traefik"));
  }
  SECTION("prometheus on traefik creates it next to http") {
    const auto c = from_flags({"--metrics.prometheus"});
    CHECK(c.entry_points.at("http").address == ":80");
    CHECK(c.entry_points.at("traefik").address == ":8080");
  }
}

TEST_CASE("addresses that validate") {
  const std::string address =
      GENERATE(":80", "0.0.0.0:80", "localhost:8080", "[::]:443", "[::1]:0", ":65535", ":80/tcp");
  CAPTURE(address);
  CHECK(from_flags({"--entrypoints.web.address=" + address}).entry_points.at("web").address ==
        address);
}

namespace {

struct ErrorRow {
  Args args;
  Args environment;
  const char* error;
};

}  // namespace

TEST_CASE("every error names what is wrong") {
  const auto row = GENERATE(values<ErrorRow>({
      {{"--providers.docker.exposedbydefaul=false"},
       {},
       "unknown flag --providers.docker.exposedbydefaul (did you mean "
       "--providers.docker.exposedByDefault?)"},
      {{"--entrypoints.web.adress=:80"},
       {},
       "unknown flag --entrypoints.web.adress (did you mean --entryPoints.web.address?)"},
      {{"--frobnicate"}, {}, "unknown flag --frobnicate"},
      {{"--log.level=verbose"},
       {},
       "invalid value \"verbose\" for flag --log.level: expected one of TRACE DEBUG INFO WARN "
       "ERROR FATAL PANIC"},
      {{"--log.format=xml"},
       {},
       "invalid value \"xml\" for flag --log.format: expected one of common json"},
      {{"--accesslog.format=xml"},
       {},
       "invalid value \"xml\" for flag --accesslog.format: expected one of common json"},
      {{"--workers=many"}, {}, "invalid value \"many\" for flag --workers: expected an integer"},
      {{"--workers="}, {}, "invalid value \"\" for flag --workers: expected an integer"},
      {{"--api.insecure=yes"},
       {},
       "invalid value \"yes\" for flag --api.insecure: expected true or false"},
      {{"--api=maybe"}, {}, "invalid value \"maybe\" for flag --api: expected true or false"},
      {{"--providers.providersthrottleduration=1d"},
       {},
       "invalid value \"1d\" for flag --providers.providersthrottleduration: expected a duration "
       "such as 10s, 1m30s or 500ms, or seconds"},
      {{"--log.level"}, {}, "flag --log.level needs a value (string)"},
      {{"serve"}, {}, "unexpected argument \"serve\" (flags look like --name=value)"},
      {{"--api", "true"}, {}, "unexpected argument \"true\" (flags look like --name=value)"},
      {{"---api"}, {}, "bad flag syntax: ---api"},
      {{"--=x"}, {}, "bad flag syntax: --=x"},
      {{"--entrypoints.web.address=80"},
       {},
       "entryPoints.web.address: invalid address \"80\" (expected [host]:port)"},
      {{"--entrypoints.web.address=:99999"},
       {},
       "entryPoints.web.address: invalid address \":99999\" (expected [host]:port)"},
      {{"--entrypoints.web.address=::1:80"},
       {},
       "entryPoints.web.address: invalid address \"::1:80\" (expected [host]:port)"},
      {{"--entrypoints.web.asdefault"}, {}, "entryPoints.web.address: missing address"},
      {{"--entrypoints.web.address=:80", "--entrypoints.web.http.redirections.entrypoint.to=tls"},
       {},
       "entryPoints.web.http.redirections.entryPoint.to: unknown entry point \"tls\""},
      {{"--entrypoints.web.address=:80", "--entrypoints.web.http.redirections.entrypoint"},
       {},
       "entryPoints.web.http.redirections.entryPoint.to: missing target entry point"},
      {{"--entrypoints.web.address=:80", "--entrypoints.web.http.redirections.entrypoint.to=web"},
       {},
       "entryPoints.web.http.redirections.entryPoint.to: an entry point cannot redirect to "
       "itself"},
      {{"--entrypoints.web.address=:80", "--ping.entrypoint=admin"},
       {},
       "ping.entryPoint: unknown entry point \"admin\""},
      {{"--ping.terminatingstatuscode=42"},
       {},
       "ping.terminatingStatusCode: not an HTTP status code (100-599)"},
      {{"--entrypoints.web.address=:80", "--metrics.prometheus.entrypoint=admin"},
       {},
       "metrics.prometheus.entryPoint: unknown entry point \"admin\""},
      {{"--providers.docker.endpoint=/var/run/docker.sock"},
       {},
       "providers.docker.endpoint: invalid endpoint \"/var/run/docker.sock\" (expected a URL such "
       "as unix:///var/run/docker.sock or tcp://host:2375)"},
      {{"--providers.providersthrottleduration=-1s"},
       {},
       "providers.providersThrottleDuration: must not be negative"},
      {{"--accesslog.bufferingsize=-1"}, {}, "accessLog.bufferingSize: must not be negative"},
      {{"--accesslog.filters.statuscodes=200,abc"},
       {},
       "accessLog.filters.statusCodes: invalid status code range \"abc\" (expected a code such "
       "as 404 or a range such as 500-599, from 100 to 999)"},
      {{"--accesslog.filters.statuscodes=500-400"},
       {},
       "accessLog.filters.statusCodes: invalid status code range \"500-400\" (expected a code "
       "such as 404 or a range such as 500-599, from 100 to 999)"},
      {{"--accesslog.filters.minduration=10 ms"},
       {},
       "invalid value \"10 ms\" for flag --accesslog.filters.minduration: expected a duration "
       "such as 10s, 1m30s or 500ms, or seconds"},
      {{"--accesslog.filters.minduration=-1s"},
       {},
       "accessLog.filters.minDuration: must not be negative"},
      {{"--accesslog.fields.defaultmode=redact"},
       {},
       "invalid value \"redact\" for flag --accesslog.fields.defaultmode: expected one of keep "
       "drop"},
      {{"--accesslog.fields.names.ClientUsername=hide"},
       {},
       "invalid value \"hide\" for flag --accesslog.fields.names.ClientUsername: expected one of "
       "keep drop"},
      {{"--accesslog.fields.names.ClientUser=drop"},
       {},
       "accessLog.fields.names.ClientUser: unknown field \"ClientUser\""},
      {{"--accesslog.fields.headers.defaultmode=mask"},
       {},
       "invalid value \"mask\" for flag --accesslog.fields.headers.defaultmode: expected one of "
       "keep drop redact"},
      {{"--accesslog.fields.headers.names.User-Agent=hide"},
       {},
       "invalid value \"hide\" for flag --accesslog.fields.headers.names.User-Agent: expected one "
       "of keep drop redact"},
      {{"--accesslog.fields.headers.names.Bad(Name)=keep"},
       {},
       "accessLog.fields.headers.names.Bad(Name): invalid header name \"Bad(Name)\""},
      {{},
       {"TRAEFIK_ACCESSLOG_FILTERS_STATUSCODES=2xx"},
       "accessLog.filters.statusCodes: invalid status code range \"2xx\" (expected a code such "
       "as 404 or a range such as 500-599, from 100 to 999)"},
      {{"--serverstransport.maxidleconnsperhost=-1"},
       {},
       "serversTransport.maxIdleConnsPerHost: must not be negative"},
      {{"--workers=-2"}, {}, "workers: must be 0 (one per core) or more"},
      {{"--entrypoints..address=:80"},
       {},
       "unknown flag --entrypoints..address (did you mean --entryPoints..address?)"},
      {{},
       {"TRAEFIK_LOG_LEVL=INFO"},
       "unknown environment variable TRAEFIK_LOG_LEVL (did you mean TRAEFIK_LOG_LEVEL?)"},
      {{},
       {"BERTH_WORKERS=x"},
       "invalid value \"x\" for environment variable BERTH_WORKERS: expected an integer"},
  }));
  CAPTURE(row.args, row.environment);
  CHECK(error_of([&] { parse_static_configuration(row.args, row.environment); }) == row.error);
}

TEST_CASE("access log filters and fields parse as Traefik's") {
  const auto row = GENERATE(values<FlagRow>({
      {{"--accesslog"},
       [](const StaticConfiguration& c) {
         return c.access_log->filters == AccessLogFilters{} &&
                c.access_log->fields.default_mode == "keep" &&
                c.access_log->fields.headers.default_mode == "drop" &&
                c.access_log->fields.names.empty() && c.access_log->fields.headers.names.empty();
       }},
      {{"--accesslog.filters.statuscodes=200,300-302", "--accesslog.filters.statuscodes=500"},
       [](const StaticConfiguration& c) {
         return c.access_log->filters.status_codes ==
                std::vector<std::string>{"200", "300-302", "500"};
       }},
      {{"--accesslog.filters.retryattempts", "--accesslog.filters.minduration=10ms"},
       [](const StaticConfiguration& c) {
         return c.access_log->filters.retry_attempts && c.access_log->filters.min_duration == 10ms;
       }},
      {{"--accesslog.filters.minduration=2"},
       [](const StaticConfiguration& c) { return c.access_log->filters.min_duration == 2s; }},
      {{"--accesslog.fields.defaultmode=drop", "--accesslog.fields.names.ClientUsername=keep",
        "--accesslog.fields.names.requestpath=KEEP"},
       [](const StaticConfiguration& c) {
         const auto& fields = c.access_log->fields;
         return fields.default_mode == "drop" &&
                fields.names == std::map<std::string, std::string>{{"ClientUsername", "keep"},
                                                                   {"requestpath", "keep"}};
       }},
      {{"--accesslog.fields.headers.defaultmode=keep",
        "--accesslog.fields.headers.names.User-Agent=redact",
        "--accesslog.fields.headers.names.Authorization=drop"},
       [](const StaticConfiguration& c) {
         const auto& headers = c.access_log->fields.headers;
         return headers.default_mode == "keep" &&
                headers.names == std::map<std::string, std::string>{{"Authorization", "drop"},
                                                                    {"User-Agent", "redact"}};
       }},
  }));
  CAPTURE(row.args);
  CHECK(row.check(from_flags(row.args)));
}

TEST_CASE("access log filters and fields from the environment") {
  const auto c = from_env({"TRAEFIK_ACCESSLOG_FILTERS_STATUSCODES=404,500-599",
                           "TRAEFIK_ACCESSLOG_FIELDS_NAMES_CLIENTUSERNAME=drop",
                           "TRAEFIK_ACCESSLOG_FIELDS_HEADERS_NAMES_USER-AGENT=redact"});
  REQUIRE(c.access_log);
  CHECK(c.access_log->filters.status_codes == std::vector<std::string>{"404", "500-599"});
  // Traefik lower-cases environment names; the access log matches them whatever their case.
  CHECK(c.access_log->fields.names.at("clientusername") == "drop");
  CHECK(c.access_log->fields.headers.names.at("user-agent") == "redact");
}

TEST_CASE("status code ranges") {
  using Range = std::optional<std::pair<unsigned, unsigned>>;
  const auto row = GENERATE(values<std::pair<std::string, Range>>({
      {"200", Range{{200, 200}}},
      {"300-302", Range{{300, 302}}},
      {"500-500", Range{{500, 500}}},
      {"100-999", Range{{100, 999}}},
      {"", std::nullopt},
      {"abc", std::nullopt},
      {"500-400", std::nullopt},
      {"200-", std::nullopt},
      {"-200", std::nullopt},
      {"200-300-400", std::nullopt},
      {" 200", std::nullopt},
      {"+200", std::nullopt},
      {"99", std::nullopt},
      {"1000", std::nullopt},
      {"5xx", std::nullopt},
  }));
  CAPTURE(row.first);
  CHECK(parse_status_code_range(row.first) == row.second);
}

TEST_CASE("validate checks configurations built in code too") {
  StaticConfiguration c;
  c.entry_points["web"].address = ":80";
  c.log.level = "debug";  // the flag parser upper-cases; code must too
  CHECK(error_of([&] { validate(c); }) == "log.level: unknown level \"debug\"");
  c.log.level = "DEBUG";
  c.log.format = "yaml";
  CHECK(error_of([&] { validate(c); }) == "log.format: unknown format \"yaml\"");
  c.log.format = "json";
  c.access_log = AccessLog{};
  c.access_log->format = "yaml";
  CHECK(error_of([&] { validate(c); }) == "accessLog.format: unknown format \"yaml\"");
  c.access_log->format = "json";
  CHECK(error_of([&] { validate(c); }) == "(no error)");
}

TEST_CASE("the flag table lists every flag once, with types and defaults") {
  const auto flags = static_flags();
  std::set<std::string> paths;
  for (const auto& flag : flags) {
    CAPTURE(flag.path);
    CHECK(paths.insert(flag.path).second);
    CHECK_FALSE(flag.description.empty());
  }
  const auto find = [&](std::string_view path) {
    const auto it = std::find_if(flags.begin(), flags.end(),
                                 [&](const FlagInfo& flag) { return flag.path == path; });
    REQUIRE(it != flags.end());
    return *it;
  };
  CHECK(find("entryPoints.<name>.transport.respondingTimeouts.idleTimeout").default_value ==
        "3m0s");
  CHECK(find("providers.docker.endpoint").default_value == "unix:///var/run/docker.sock");
  CHECK(find("providers.docker").type == "section");
  CHECK(find("serversTransport.maxIdleConnsPerHost").default_value == "200");
  CHECK(find("log.level").default_value == "ERROR");
  CHECK(find("entryPoints.<name>.forwardedHeaders.trustedIPs").type == "list");
  const std::string help = static_flags_help();
  CHECK_THAT(help, Catch::Contains("\nproviders:\n"));
  CHECK_THAT(help, Catch::Contains("--providers.providersThrottleDuration=<duration>  (default: "
                                   "50ms)"));
  CHECK_THAT(help, Catch::Contains("TRACE DEBUG INFO WARN ERROR FATAL PANIC"));
}

TEST_CASE("the environment is applied in a fixed order: sections before their fields") {
  const auto c = from_env({"TRAEFIK_API_INSECURE=true", "TRAEFIK_API=true"});
  REQUIRE(c.api.has_value());
  CHECK(c.api->insecure);
  const auto off = from_env({"TRAEFIK_API_DASHBOARD=false", "TRAEFIK_API=false"});
  CHECK_FALSE(off.api->dashboard);
}

TEST_CASE("to_json writes every flag of the effective configuration") {
  const auto c =
      from_flags({"--entrypoints.web.address=:80", "--entrypoints.websecure.address=:443",
                  "--entrypoints.web.http.redirections.entrypoint.to=websecure",
                  "--providers.docker", "--api.insecure", "--log.level=info"});
  const nlohmann::json json = to_json(c);
  CAPTURE(json.dump());
  CHECK(json["entryPoints"]["web"]["address"] == ":80");
  CHECK(json["entryPoints"]["web"]["transport"]["respondingTimeouts"]["idleTimeout"] == "3m0s");
  CHECK(json["entryPoints"]["web"]["http"]["redirections"]["entryPoint"] ==
        nlohmann::json::parse(R"({"to":"websecure","scheme":"https","permanent":true,
                                 "priority":9223372036854775806})"));
  CHECK_FALSE(json["entryPoints"]["websecure"]["http"].contains("redirections"));
  CHECK(json["entryPoints"]["traefik"]["address"] == ":8080");
  CHECK(json["providers"]["docker"]["endpoint"] == "unix:///var/run/docker.sock");
  CHECK_FALSE(json["providers"]["docker"].contains("tls"));
  CHECK_FALSE(json["providers"].contains("file"));
  CHECK(json["providers"]["providersThrottleDuration"] == "50ms");
  CHECK(json["api"] == nlohmann::json::parse(
                           R"({"insecure":true,"dashboard":true,"basePath":"/","debug":false})"));
  CHECK_FALSE(json.contains("ping"));
  CHECK_FALSE(json.contains("metrics"));
  CHECK(json["log"]["level"] == "INFO");
  CHECK(json["workers"] == 0);
  CHECK(json["serversTransport"]["maxIdleConnsPerHost"] == 200);
  CHECK_FALSE(json.contains("certificatesResolvers"));

  const auto with_acme = to_json(from_flags({"--certificatesresolvers.le.acme.email=a@example.com",
                                             "--certificatesresolvers.le.acme.tlschallenge"}));
  CHECK(with_acme["certificatesResolvers"]["le"]["acme"]["email"] == "a@example.com");
  CHECK(with_acme["certificatesResolvers"]["le"]["acme"]["storage"] == "acme.json");
}

TEST_CASE("to_json writes the access log's filters, fields and named modes") {
  const auto json = to_json(from_flags({"--accesslog.filters.statuscodes=200,500-599",
                                        "--accesslog.filters.minduration=10ms",
                                        "--accesslog.fields.names.ClientUsername=drop",
                                        "--accesslog.fields.headers.names.User-Agent=redact"}));
  CAPTURE(json.dump());
  const auto& log = json["accessLog"];
  CHECK(log["filters"] == nlohmann::json::parse(
                              R"({"statusCodes":["200","500-599"],"retryAttempts":false,
                                  "minDuration":"10ms"})"));
  CHECK(log["fields"] == nlohmann::json::parse(
                             R"({"defaultMode":"keep","names":{"ClientUsername":"drop"},
                                 "headers":{"defaultMode":"drop",
                                            "names":{"User-Agent":"redact"}}})"));
  CHECK_FALSE(to_json(from_flags({"--api"})).contains("accessLog"));
}
