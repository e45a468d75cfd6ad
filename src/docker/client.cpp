// libcurl behind DockerApi. Every transfer runs through a curl multi handle so that shutdown() can
// wake it up at once (curl_multi_wakeup) instead of waiting for a timeout or the next byte.

#include "berth/docker/client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

namespace berth::docker {

namespace {

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
};

/// State shared with curl's callbacks during one transfer.
struct Transfer {
  Response response;
  const std::atomic<bool>* stopped = nullptr;
  // Event streams only: lines are cut from `pending` and handed over one by one.
  const std::function<void(const Event&)>* on_event = nullptr;
  const std::function<void()>* on_connected = nullptr;
  std::string pending;
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new status line (e.g. after 100 Continue) starts a fresh header block.
    transfer.response.headers.clear();
    const auto space = line.find(' ');
    if (space != std::string_view::npos) {
      transfer.response.status =
          std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
    }
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    transfer.response.headers[lower(trim(line.substr(0, colon)))] =
        std::string(trim(line.substr(colon + 1)));
  } else if (trim(line).empty() && transfer.response.status == 200 && transfer.on_connected) {
    (*transfer.on_connected)();
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer.stopped->load()) return 0;  // aborts the transfer
  if (transfer.on_event == nullptr || transfer.response.status != 200) {
    transfer.response.body.append(data, bytes);
    return bytes;
  }
  // Newline-delimited JSON, cut at arbitrary places by the transport.
  transfer.pending.append(data, bytes);
  std::size_t start = 0;
  for (auto end = transfer.pending.find('\n'); end != std::string::npos;
       end = transfer.pending.find('\n', start)) {
    const std::string_view line =
        trim(std::string_view(transfer.pending).substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    auto event = parse_event(line);
    if (auto* parsed = std::get_if<Event>(&event)) {
      (*transfer.on_event)(*parsed);
    }
  }
  transfer.pending.erase(0, start);
  return bytes;
}

/// The daemon's {"message": "..."} or, failing that, the body itself.
std::string daemon_message(const std::string& body) {
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    const auto it = parsed.find("message");
    if (it != parsed.end() && it->is_string()) return it->get<std::string>();
  }
  return std::string(trim(body));
}

/// "Thu, 26 Nov 2026 04:55:26 GMT" -> nanoseconds since the epoch; 0 when unparsable.
std::int64_t parse_http_date(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return 0;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::atomic<bool> stopped{false};
  CURLM* request_multi = nullptr;
  CURL* request_easy = nullptr;
  CURLM* stream_multi = nullptr;
  std::mutex version_mutex;
  std::optional<ApiVersion> version;

  explicit Impl(ClientOptions o) : options(std::move(o)) {
    global_init();
    request_multi = curl_multi_init();
    request_easy = curl_easy_init();
    stream_multi = curl_multi_init();
    if (request_multi == nullptr || request_easy == nullptr || stream_multi == nullptr) {
      throw std::runtime_error("libcurl initialisation failed");
    }
  }

  ~Impl() {
    curl_easy_cleanup(request_easy);
    curl_multi_cleanup(request_multi);
    curl_multi_cleanup(stream_multi);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::string where() const { return options.endpoint.to_string(); }

  std::optional<ApiVersion> api_version() {
    const std::lock_guard lock(version_mutex);
    return version;
  }

  Error not_connected(std::string_view target) const {
    return Error{
        Error::Kind::protocol,
        fmt::format("Docker at {}: GET {} before the API version was negotiated", where(), target)};
  }

  void configure(CURL* easy, const std::string& target, Transfer& transfer, bool stream,
                 char* error_buffer) const {
    const Endpoint& endpoint = options.endpoint;
    const std::string url = endpoint.base_url() + target;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "berth");
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
    // The event stream is silent while nothing happens: no overall or low-speed timeout there.
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     stream ? 0L : static_cast<long>(options.request_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
    if (endpoint.kind == Endpoint::Kind::unix_socket) {
      curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, endpoint.socket_path.c_str());
    } else if (endpoint.tls) {
      const TlsOptions& tls = *endpoint.tls;
      if (!tls.ca.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, tls.ca.c_str());
      if (!tls.cert.empty()) curl_easy_setopt(easy, CURLOPT_SSLCERT, tls.cert.c_str());
      if (!tls.key.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, tls.key.c_str());
      curl_easy_setopt(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, tls.insecure_skip_verify ? 0L : 1L);
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, tls.insecure_skip_verify ? 0L : 2L);
    }
  }

  /// Runs one transfer to completion, failure or shutdown.
  Result<Response> perform(CURLM* multi, CURL* easy, const std::string& target, Transfer& transfer,
                           bool stream) {
    char error_buffer[CURL_ERROR_SIZE] = {};
    transfer.stopped = &stopped;
    configure(easy, target, transfer, stream, error_buffer);
    curl_multi_add_handle(multi, easy);
    CURLcode code = CURLE_OK;
    bool finished = false;
    while (!stopped.load()) {
      int running = 0;
      if (curl_multi_perform(multi, &running) != CURLM_OK) break;
      int left = 0;
      while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
          code = message->data.result;
          finished = true;
        }
      }
      if (finished || running == 0) break;
      // Wakes up on socket activity, on curl's own timers, or on curl_multi_wakeup (shutdown).
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    curl_multi_remove_handle(multi, easy);
    if (stopped.load()) {
      return Error{Error::Kind::interrupted, fmt::format("Docker at {}: shutting down", where())};
    }
    if (!finished || code != CURLE_OK) {
      std::string detail = error_buffer[0] != '\0' ? std::string(error_buffer)
                                                   : std::string(curl_easy_strerror(code));
      long os_error = 0;
      if (options.endpoint.kind == Endpoint::Kind::unix_socket && code == CURLE_COULDNT_CONNECT &&
          curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_error) == CURLE_OK && os_error != 0) {
        // curl words a socket failure as "localhost port 80"; the system's reason says more.
        detail = "cannot connect to the socket: " +
                 std::system_category().message(static_cast<int>(os_error));
      }
      return Error{Error::Kind::connection,
                   fmt::format("Docker at {}: GET {}: {}", where(), target, detail)};
    }
    return std::move(transfer.response);
  }

  Result<Response> get(const std::string& target) {
    curl_easy_reset(request_easy);
    Transfer transfer;
    return perform(request_multi, request_easy, target, transfer, false);
  }

  /// An error result for a non-2xx answer, naming the endpoint, the request and the daemon's words.
  Error http_error(const std::string& target, const Response& response) const {
    const Error::Kind kind = response.status == 404 ? Error::Kind::not_found : Error::Kind::http;
    return Error{kind, fmt::format("Docker at {}: GET {}: {} {}", where(), target, response.status,
                                   daemon_message(response.body))};
  }

  Result<DaemonInfo> connect() {
    // Unversioned: /_ping is how the version is found out.
    auto ping = get("/_ping");
    if (auto* error = std::get_if<Error>(&ping)) return std::move(*error);
    auto& pong = std::get<Response>(ping);
    if (pong.status != 200) return http_error("/_ping", pong);

    DaemonInfo info;
    // Daemons too old to send the header speak 1.24 at most, as the Go SDK assumes.
    info.daemon_api_version = min_api_version;
    if (const auto it = pong.headers.find("api-version"); it != pong.headers.end()) {
      const auto parsed = parse_api_version(it->second);
      if (!parsed) {
        return Error{Error::Kind::protocol,
                     fmt::format("Docker at {}: unreadable Api-Version {:?}", where(), it->second)};
      }
      info.daemon_api_version = *parsed;
    }
    if (info.daemon_api_version < min_api_version) {
      return Error{
          Error::Kind::version,
          fmt::format("Docker at {} speaks API {} at most; berth needs at least {}", where(),
                      info.daemon_api_version.to_string(), min_api_version.to_string())};
    }
    info.api_version = std::min(info.daemon_api_version, max_api_version);

    const std::string target = fmt::format("/v{}/version", info.api_version.to_string());
    auto answer = get(target);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status == 400) {
      // "client version X is too old/new": the daemon's own words say which way.
      return Error{Error::Kind::version,
                   fmt::format("Docker at {} refuses API {} (berth supports {} to {}): {}", where(),
                               info.api_version.to_string(), min_api_version.to_string(),
                               max_api_version.to_string(), daemon_message(response.body))};
    }
    if (response.status != 200) return http_error(target, response);
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object()) {
      return Error{
          Error::Kind::protocol,
          fmt::format("Docker at {}: GET {}: the answer is not a JSON object", where(), target)};
    }
    const auto text = [&](const char* key) {
      const auto it = body.find(key);
      return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    info.daemon_version = text("Version");
    info.daemon_min_api_version =
        parse_api_version(text("MinAPIVersion")).value_or(min_api_version);
    if (const auto api = parse_api_version(text("ApiVersion"))) info.daemon_api_version = *api;
    if (info.daemon_min_api_version > max_api_version) {
      return Error{
          Error::Kind::version,
          fmt::format("Docker {} at {} requires API {} or newer; berth supports up to {}",
                      info.daemon_version, where(), info.daemon_min_api_version.to_string(),
                      max_api_version.to_string())};
    }
    if (const auto it = response.headers.find("date"); it != response.headers.end()) {
      info.daemon_time_nano = parse_http_date(it->second);
    }
    const std::lock_guard lock(version_mutex);
    version = info.api_version;
    return info;
  }

  Result<std::vector<std::string>> list_containers() {
    const auto api = api_version();
    if (!api) return not_connected("/containers/json");
    const std::string target = fmt::format("/v{}/containers/json?all=1", api->to_string());
    auto answer = get(target);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status != 200) return http_error(target, response);
    auto ids = parse_container_list(response.body);
    if (auto* error = std::get_if<Error>(&ids)) {
      error->message = fmt::format("Docker at {}: GET {}: {}", where(), target, error->message);
    }
    return ids;
  }

  Result<labels::ContainerInfo> inspect_container(std::string_view id) {
    const auto api = api_version();
    if (!api) return not_connected("/containers/{id}/json");
    char* escaped = curl_easy_escape(request_easy, id.data(), static_cast<int>(id.size()));
    const std::string target =
        fmt::format("/v{}/containers/{}/json", api->to_string(), escaped ? escaped : "");
    curl_free(escaped);
    auto answer = get(target);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status != 200) return http_error(target, response);
    auto info = parse_inspect(response.body);
    if (auto* error = std::get_if<Error>(&info)) {
      error->message = fmt::format("Docker at {}: GET {}: {}", where(), target, error->message);
    }
    return info;
  }

  Result<Done> stream_events(std::int64_t since_nano,
                             const std::function<void(const Event&)>& on_event,
                             const std::function<void()>& on_connected) {
    const auto api = api_version();
    if (!api) return not_connected("/events");
    CURL* easy = curl_easy_init();
    if (easy == nullptr) {
      return Error{Error::Kind::connection, "libcurl could not create a handle for /events"};
    }
    const std::string filters = R"({"type":["container","network"]})";
    char* escaped = curl_easy_escape(easy, filters.data(), static_cast<int>(filters.size()));
    const std::string target = fmt::format("/v{}/events?since={}&filters={}", api->to_string(),
                                           format_since(since_nano), escaped ? escaped : "");
    curl_free(escaped);
    Transfer transfer;
    transfer.on_event = &on_event;
    transfer.on_connected = &on_connected;
    auto answer = perform(stream_multi, easy, target, transfer, true);
    curl_easy_cleanup(easy);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status != 200) return http_error(target, response);
    return Done{};
  }

  void shutdown() {
    stopped.store(true);
    curl_multi_wakeup(request_multi);
    curl_multi_wakeup(stream_multi);
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

Result<DaemonInfo> Client::connect() {
  return impl_->connect();
}
Result<std::vector<std::string>> Client::list_containers() {
  return impl_->list_containers();
}
Result<labels::ContainerInfo> Client::inspect_container(std::string_view id) {
  return impl_->inspect_container(id);
}
Result<Done> Client::stream_events(std::int64_t since_nano,
                                   const std::function<void(const Event&)>& on_event,
                                   const std::function<void()>& on_connected) {
  return impl_->stream_events(since_nano, on_event, on_connected);
}
void Client::shutdown() {
  impl_->shutdown();
}

}  // namespace berth::docker
