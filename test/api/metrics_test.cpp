#include "berth/api/metrics.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "fixture.hpp"

namespace berth::api {
namespace {

TEST_CASE("metrics describe the configuration in Prometheus text format") {
  const std::string text = render_metrics(test::fixture_state(), {});
  CHECK(text ==
        "# HELP traefik_config_reloads_total Config reloads\n"
        "# TYPE traefik_config_reloads_total counter\n"
        "traefik_config_reloads_total 3\n"
        "# HELP traefik_config_last_reload_success Last config reload success\n"
        "# TYPE traefik_config_last_reload_success gauge\n"
        "traefik_config_last_reload_success 1700000000\n"
        "# HELP berth_http_routers HTTP routers by status.\n"
        "# TYPE berth_http_routers gauge\n"
        "berth_http_routers{status=\"disabled\"} 2\n"
        "berth_http_routers{status=\"enabled\"} 2\n"
        "berth_http_routers{status=\"warning\"} 0\n"
        "# HELP berth_http_services HTTP services by status.\n"
        "# TYPE berth_http_services gauge\n"
        "berth_http_services{status=\"disabled\"} 0\n"
        "berth_http_services{status=\"enabled\"} 2\n"
        "berth_http_services{status=\"warning\"} 0\n"
        "# HELP berth_http_middlewares HTTP middlewares by status.\n"
        "# TYPE berth_http_middlewares gauge\n"
        "berth_http_middlewares{status=\"disabled\"} 0\n"
        "berth_http_middlewares{status=\"enabled\"} 1\n"
        "berth_http_middlewares{status=\"warning\"} 1\n"
        "# HELP traefik_service_server_up Whether a server of a service takes new requests (1) or "
        "not (0: down or draining).\n"
        "# TYPE traefik_service_server_up gauge\n"
        "traefik_service_server_up{service=\"whoami@docker\",url=\"http://172.18.0.3:80\"} 1\n"
        "traefik_service_server_up{service=\"whoami@docker\",url=\"http://172.18.0.4:80\"} 0\n"
        "# HELP berth_containers Containers the Docker provider knows, routed or not.\n"
        "# TYPE berth_containers gauge\n"
        "berth_containers{routed=\"true\"} 1\n"
        "berth_containers{routed=\"false\"} 1\n"
        "# HELP berth_containers_draining Containers stopping: their servers take no new "
        "requests, requests in flight finish.\n"
        "# TYPE berth_containers_draining gauge\n"
        "berth_containers_draining 0\n");
}

TEST_CASE("extra families are validated and escaped") {
  const std::vector<MetricFamily> extra = {
      {"berth_requests_total",
       "Requests.\nBy code.",
       "counter",
       {{{{"code", "200"}, {"router", "a\"b\\c\nd"}}, 12}, {{{"code", "5xx"}}, 0.5}}},
      {"bad name", "skipped", "gauge", {{{}, 1}}},
      {"traefik_config_reloads_total", "a repeat is dropped", "counter", {{{}, 99}}},
      {"berth_weird",
       "",
       "summary",
       {{{{"1bad", "x"}, {"ok", "y"}}, std::numeric_limits<double>::infinity()},
        {{}, -std::numeric_limits<double>::infinity()},
        {{}, std::nan("")}}},
  };
  const std::string text = render_metrics(State{}, extra);
  CHECK(text.find("# HELP berth_requests_total Requests.\\nBy code.\n"
                  "# TYPE berth_requests_total counter\n"
                  "berth_requests_total{code=\"200\",router=\"a\\\"b\\\\c\\nd\"} 12\n"
                  "berth_requests_total{code=\"5xx\"} 0.5\n") != std::string::npos);
  CHECK(text.find("bad name") == std::string::npos);
  CHECK(text.find("traefik_config_reloads_total 99") == std::string::npos);
  CHECK(text.find("traefik_config_reloads_total 0\n") != std::string::npos);
  CHECK(text.find("# TYPE berth_weird untyped\n"
                  "berth_weird{ok=\"y\"} +Inf\n"
                  "berth_weird -Inf\n"
                  "berth_weird NaN\n") != std::string::npos);
  CHECK(text.find("# HELP berth_weird") == std::string::npos);
}

TEST_CASE("histogram families render their _bucket, _sum and _count samples only") {
  const std::vector<MetricFamily> extra = {
      {"traefik_entrypoint_request_duration_seconds",
       "Request duration.",
       "histogram",
       {{{{"entrypoint", "web"}, {"le", "0.1"}}, 2, "_bucket"},
        {{{"entrypoint", "web"}, {"le", "+Inf"}}, 3, "_bucket"},
        {{{"entrypoint", "web"}}, 0.25, "_sum"},
        {{{"entrypoint", "web"}}, 3, "_count"},
        {{{"entrypoint", "web"}}, 9, "_total"},
        {{{"entrypoint", "web"}}, 9, ""}}},
  };
  const std::string text = render_metrics(State{}, extra);
  const std::string name = "traefik_entrypoint_request_duration_seconds";
  CHECK(text.find("# TYPE " + name + " histogram\n" +                     //
                  name + "_bucket{entrypoint=\"web\",le=\"0.1\"} 2\n" +   //
                  name + "_bucket{entrypoint=\"web\",le=\"+Inf\"} 3\n" +  //
                  name + "_sum{entrypoint=\"web\"} 0.25\n" +              //
                  name + "_count{entrypoint=\"web\"} 3\n") != std::string::npos);
  CHECK(text.find(" 9\n") == std::string::npos);
}

}  // namespace
}  // namespace berth::api
