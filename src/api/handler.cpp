#include "berth/api/handler.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "berth/config/json.hpp"
#include "resources.hpp"
#include "url.hpp"

namespace berth::api {

namespace {

using nlohmann::json;

constexpr std::string_view json_type = "application/json";
constexpr std::string_view next_page_header = "X-Next-Page";
constexpr int default_per_page = 100;

Response json_response(const json& body) {
  return Response{200, std::string{json_type}, body.dump() + "\n", {}};
}

/// Traefik's writeError: a JSON body sent through Go's http.Error, hence text/plain and nosniff.
Response error_response(unsigned status, const std::string& message) {
  return Response{status,
                  "text/plain; charset=utf-8",
                  json{{"message", message}}.dump() + "\n",
                  {{"X-Content-Type-Options", "nosniff"}}};
}

Response not_found_page() {
  return Response{404,
                  "text/plain; charset=utf-8",
                  "404 page not found\n",
                  {{"X-Content-Type-Options", "nosniff"}}};
}

// ------------------------------------------------------------------------------------------------
// Filtering, sorting and paging, as pkg/api/criterion.go and sort.go.

struct Criterion {
  std::string search;
  std::string status;
  std::string service_name;
  std::string middleware_name;

  bool with_status(const std::string& value) const {
    return status.empty() || equal_fold(value, status);
  }
  bool search_in(std::initializer_list<std::string_view> values) const {
    if (search.empty()) return true;
    const std::string needle = to_lower(search);
    return std::any_of(values.begin(), values.end(), [&](std::string_view value) {
      return to_lower(value).find(needle) != std::string::npos;
    });
  }
  bool filter_service(const std::string& name) const {
    if (service_name.empty()) return true;
    if (name.find('@') != std::string::npos) return service_name == name;
    return config::split_qualified(service_name).name == name;
  }
  bool filter_middleware(const json& middlewares) const {
    if (middleware_name.empty()) return true;
    if (!middlewares.is_array()) return false;
    return std::any_of(middlewares.begin(), middlewares.end(),
                       [&](const json& m) { return m == middleware_name; });
  }
};

Criterion criterion_of(const Query& query) {
  return Criterion{query.get("search"), query.get("status"), query.get("serviceName"),
                   query.get("middlewareName")};
}

std::string string_at(const json& item, const char* key) {
  auto it = item.find(key);
  return it != item.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::int64_t int_at(const json& item, const char* key) {
  auto it = item.find(key);
  return it != item.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::int64_t size_at(const json& item, std::initializer_list<const char*> path) {
  const json* node = &item;
  for (const char* key : path) {
    auto it = node->find(key);
    if (it == node->end()) return 0;
    node = &*it;
  }
  return node->is_array() ? static_cast<std::int64_t>(node->size()) : 0;
}

using SortKey = std::function<std::variant<std::string, std::int64_t>(const json&)>;

/// sortByName / sortByFunc: ties broken by name; any direction other than "asc" is descending.
void sort_items(std::vector<json>& items, const SortKey& key, bool ascending) {
  const auto name = [](const json& item) { return string_at(item, "name"); };
  std::sort(items.begin(), items.end(), [&](const json& a, const json& b) {
    if (key) {
      auto ka = key(a);
      auto kb = key(b);
      if (ka != kb) return ascending ? ka < kb : kb < ka;
    }
    return ascending ? name(a) < name(b) : name(b) < name(a);
  });
}

void sort_by(std::vector<json>& items, const Query& query,
             const std::vector<std::pair<std::string_view, SortKey>>& keys) {
  const std::string sort_by = query.get("sortBy");
  std::string direction = query.get("direction");
  if (direction.empty()) direction = "asc";
  SortKey key;
  for (const auto& [field, fn] : keys) {
    if (field == sort_by) key = fn;
  }
  sort_items(items, key, direction == "asc");
}

SortKey by_string(const char* field) {
  return [field](const json& item) {
    return std::variant<std::string, std::int64_t>{string_at(item, field)};
  };
}

/// A page of `items`, or the 400 Traefik answers for a page past the end or a bad number.
Response paged(std::vector<json> items, const Query& query) {
  const auto param = [&](const char* key, int fallback) -> std::optional<int> {
    const std::string raw = query.get(key);
    if (raw.empty()) return fallback;
    int value = 0;
    const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (ec != std::errc{} || end != raw.data() + raw.size() || value <= 0) return std::nullopt;
    return value;
  };
  // Go's strconv.Atoi leaves 0 in the message when it fails.
  const auto invalid = [&](const char* key) {
    const std::string raw = query.get(key);
    int value = 0;
    std::from_chars(raw.data(), raw.data() + raw.size(), value);
    return error_response(400, fmt::format("invalid request: {}: {}", key, value));
  };
  const std::optional<int> per_page = param("per_page", default_per_page);
  if (!per_page) return invalid("per_page");
  const std::optional<int> page = param("page", 1);
  if (!page) return invalid("page");

  const std::int64_t count = static_cast<std::int64_t>(items.size());
  const std::int64_t start = (std::int64_t{*page} - 1) * *per_page;
  if (start != 0 && start >= count) {
    return error_response(400,
                          fmt::format("invalid request: page: {}, per_page: {}", *page, *per_page));
  }
  const std::int64_t end = std::min(start + *per_page, count);
  const std::int64_t next = std::int64_t{*page} * *per_page < count ? *page + 1 : 1;

  json body = json::array();
  for (std::int64_t i = start; i < end; ++i) {
    body.push_back(std::move(items[static_cast<std::size_t>(i)]));
  }
  Response response = json_response(body);
  response.headers.emplace_back(next_page_header, std::to_string(next));
  return response;
}

// ------------------------------------------------------------------------------------------------
// Endpoints

Response list_routers(const Resources& resources, const Query& query) {
  const Criterion criterion = criterion_of(query);
  std::vector<json> items;
  for (const auto& [name, item] : resources.routers) {
    if (criterion.with_status(string_at(item.body, "status")) &&
        criterion.search_in({string_at(item.body, "rule"), name}) &&
        criterion.filter_service(string_at(item.body, "service")) &&
        criterion.filter_middleware(item.body.value("middlewares", json::array()))) {
      items.push_back(with_identity(name, item, ResourceKind::router));
    }
  }
  sort_by(items, query,
          {{"name", {}},
           {"provider", by_string("provider")},
           {"priority",
            [](const json& i) {
              return std::variant<std::string, std::int64_t>{int_at(i, "priority")};
            }},
           {"status", by_string("status")},
           {"rule", by_string("rule")},
           {"service", by_string("service")},
           {"entryPoints", [](const json& i) {
              return std::variant<std::string, std::int64_t>{size_at(i, {"entryPoints"})};
            }}});
  return paged(std::move(items), query);
}

Response list_services(const Resources& resources, const Query& query) {
  const Criterion criterion = criterion_of(query);
  std::vector<json> items;
  for (const auto& [name, item] : resources.services) {
    if (criterion.with_status(string_at(item.body, "status")) && criterion.search_in({name})) {
      items.push_back(with_identity(name, item, ResourceKind::service));
    }
  }
  sort_by(
      items, query,
      {{"name", {}},
       {"type", by_string("type")},
       {"servers",
        [](const json& i) {
          return std::variant<std::string, std::int64_t>{size_at(i, {"loadBalancer", "servers"})};
        }},
       {"provider", by_string("provider")},
       {"status", by_string("status")}});
  return paged(std::move(items), query);
}

Response list_middlewares(const Resources& resources, const Query& query) {
  const Criterion criterion = criterion_of(query);
  std::vector<json> items;
  for (const auto& [name, item] : resources.middlewares) {
    if (criterion.with_status(string_at(item.body, "status")) && criterion.search_in({name})) {
      items.push_back(with_identity(name, item, ResourceKind::middleware));
    }
  }
  sort_by(items, query,
          {{"name", {}},
           {"type", by_string("type")},
           {"provider", by_string("provider")},
           {"status", by_string("status")}});
  return paged(std::move(items), query);
}

/// /api/{kind}/{id}: `id` is still escaped; Traefik answers 400 when it cannot be decoded.
Response one_resource(const std::map<std::string, Item>& items, std::string_view escaped,
                      ResourceKind kind, std::string_view what, std::string_view id_name) {
  const auto id = path_unescape(escaped);
  if (const auto* error = std::get_if<UrlError>(&id)) {
    return error_response(
        400, fmt::format("unable to decode {} \"{}\": {}", id_name, escaped, error->message));
  }
  const std::string& name = std::get<std::string>(id);
  auto it = items.find(name);
  if (it == items.end()) return error_response(404, fmt::format("{} not found: {}", what, name));
  return json_response(with_identity(name, it->second, kind));
}

Response empty_list(const Query& query) {
  return paged({}, query);
}

Response one_missing(std::string_view escaped, std::string_view what, std::string_view id_name) {
  return one_resource({}, escaped, ResourceKind::router, what, id_name);
}

Response list_entry_points(const State& state, const Query& query) {
  std::vector<json> items;
  for (const EntryPointInfo& info : state.entry_points) items.push_back(entry_point_json(info));
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return string_at(a, "name") < string_at(b, "name");
  });
  return paged(std::move(items), query);
}

Response one_entry_point(const State& state, std::string_view escaped) {
  const auto id = path_unescape(escaped);
  if (const auto* error = std::get_if<UrlError>(&id)) {
    return error_response(
        400, fmt::format("unable to decode entryPointID \"{}\": {}", escaped, error->message));
  }
  const std::string& name = std::get<std::string>(id);
  for (const EntryPointInfo& info : state.entry_points) {
    if (info.name == name) return json_response(entry_point_json(info));
  }
  return error_response(404, fmt::format("entry point not found: {}", name));
}

Response rawdata(const Resources& resources) {
  json body = json::object();
  const auto section = [&](const char* key, const std::map<std::string, Item>& items) {
    if (items.empty()) return;  // omitempty, as Traefik
    json& out = body[key];
    for (const auto& [name, item] : items) out[name] = item.body;
  };
  section("routers", resources.routers);
  section("middlewares", resources.middlewares);
  section("services", resources.services);
  return json_response(body);
}

Response version_response(const VersionInfo& version) {
  return json_response(json{{"Version", version.version},
                            {"Codename", version.codename},
                            {"startDate", format_time(version.start_date)}});
}

Response list_containers(const State& state, const Query& query) {
  const std::string search = to_lower(query.get("search"));
  std::vector<json> items;
  for (const labels::ContainerDecision& container : state.containers) {
    if (!search.empty() && to_lower(container.name).find(search) == std::string::npos &&
        to_lower(container.id).find(search) == std::string::npos) {
      continue;
    }
    items.push_back(container_json(state, container));
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return string_at(a, "name") < string_at(b, "name");
  });
  return paged(std::move(items), query);
}

Response list_diagnostics(const State& state, const Query& query) {
  std::vector<json> items;
  for (const config::Diagnostic& diagnostic : state.diagnostics) {
    items.push_back(diagnostic_json(diagnostic));
  }
  return paged(std::move(items), query);
}

using Endpoint = std::function<Response()>;

/// The endpoint a path names, or nothing; `segments` are the raw parts after "/api/".
std::optional<Endpoint> route(const State& state, const std::vector<std::string_view>& segments,
                              const Query& query, const VersionInfo& version) {
  const auto is = [&](std::initializer_list<std::string_view> expected) {
    return std::equal(segments.begin(), segments.end(), expected.begin(), expected.end());
  };
  const auto resources = [&state] { return build_resources(state); };
  const std::size_t n = segments.size();

  if (is({"rawdata"})) return [=] { return rawdata(resources()); };
  if (is({"overview"})) return [&] { return json_response(overview(state)); };
  if (is({"version"})) return [&] { return version_response(version); };
  if (is({"entrypoints"})) return [&] { return list_entry_points(state, query); };
  if (n == 2 && segments[0] == "entrypoints") {
    return [&, id = segments[1]] { return one_entry_point(state, id); };
  }
  if (is({"diagnostics"})) return [&] { return list_diagnostics(state, query); };
  if (is({"providers", "docker", "containers"})) {
    return [&] { return list_containers(state, query); };
  }

  if (n >= 2 && n <= 3 && segments[0] == "http") {
    const std::string_view kind = segments[1];
    if (n == 2) {
      if (kind == "routers") return [=, &query] { return list_routers(resources(), query); };
      if (kind == "services") return [=, &query] { return list_services(resources(), query); };
      if (kind == "middlewares")
        return [=, &query] { return list_middlewares(resources(), query); };
      return std::nullopt;
    }
    const std::string_view id = segments[2];
    if (kind == "routers") {
      return [=] {
        return one_resource(resources().routers, id, ResourceKind::router, "router", "routerID");
      };
    }
    if (kind == "services") {
      return [=] {
        return one_resource(resources().services, id, ResourceKind::service, "service",
                            "serviceID");
      };
    }
    if (kind == "middlewares") {
      return [=] {
        return one_resource(resources().middlewares, id, ResourceKind::middleware, "middleware",
                            "middlewareID");
      };
    }
    return std::nullopt;
  }

  // berth routes no TCP or UDP yet: the endpoints exist and are empty, as in a Traefik without
  // them.
  if (n >= 2 && n <= 3 && (segments[0] == "tcp" || segments[0] == "udp")) {
    const std::string_view kind = segments[1];
    const bool known =
        kind == "routers" || kind == "services" || (segments[0] == "tcp" && kind == "middlewares");
    if (!known) return std::nullopt;
    if (n == 2) return [&] { return empty_list(query); };
    const std::string what = kind == "routers"    ? "router"
                             : kind == "services" ? "service"
                                                  : "middleware";
    return [=] { return one_missing(segments[2], what, what + "ID"); };
  }
  return std::nullopt;
}

}  // namespace

std::string format_time(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto since_epoch = time.time_since_epoch();
  auto secs = duration_cast<seconds>(since_epoch);
  auto nanos = duration_cast<nanoseconds>(since_epoch - secs).count();
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= seconds{1};
  }
  const std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (nanos != 0) {
    std::string fraction = fmt::format("{:09}", nanos);
    while (fraction.back() == '0') fraction.pop_back();
    out += '.';
    out += fraction;
  }
  out += 'Z';
  return out;
}

nlohmann::json overview(const State& state) {
  const Resources resources = build_resources(state);
  const auto section = [](const std::map<std::string, Item>& items) {
    int warnings = 0;
    int errors = 0;
    for (const auto& [name, item] : items) {
      const std::string status = string_at(item.body, "status");
      if (status == status_disabled) ++errors;
      if (status == status_warning) ++warnings;
    }
    return json{{"total", items.size()}, {"warnings", warnings}, {"errors", errors}};
  };
  const json empty = json{{"total", 0}, {"warnings", 0}, {"errors", 0}};
  json out{
      {"http",
       {{"routers", section(resources.routers)},
        {"services", section(resources.services)},
        {"middlewares", section(resources.middlewares)}}},
      {"tcp", {{"routers", empty}, {"services", empty}, {"middlewares", empty}}},
      {"udp", {{"routers", empty}, {"services", empty}}},
      {"features",
       {{"tracing", state.features.tracing},
        {"metrics", state.features.metrics},
        {"accessLog", state.features.access_log}}},
  };
  if (!state.providers.empty()) out["providers"] = state.providers;
  return out;
}

Response handle(const State& state, const Request& request, const VersionInfo& version) {
  const std::string_view target = request.target;
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const Query query{question == std::string_view::npos ? std::string_view{}
                                                       : target.substr(question + 1)};

  constexpr std::string_view prefix = "/api/";
  if (path.substr(0, prefix.size()) != prefix) return not_found_page();
  std::vector<std::string_view> segments;
  std::string_view rest = path.substr(prefix.size());
  while (true) {
    const std::size_t slash = rest.find('/');
    segments.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  // Empty segments ("/api/http/routers/") match nothing, as gorilla/mux's {id} needs one character.
  if (std::any_of(segments.begin(), segments.end(), [](auto s) { return s.empty(); })) {
    return not_found_page();
  }

  const std::optional<Endpoint> endpoint = route(state, segments, query, version);
  if (!endpoint) return not_found_page();
  if (request.method != "GET" && request.method != "HEAD") {
    Response response = error_response(405, fmt::format("method not allowed: {}", request.method));
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  return (*endpoint)();
}

}  // namespace berth::api
