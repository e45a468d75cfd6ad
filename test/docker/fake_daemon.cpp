#include "fake_daemon.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "berth/docker/api.hpp"

namespace berth::docker::test {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = net::local::stream_protocol;
using nlohmann::json;

std::int64_t now_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string http_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    const auto eq = part.find('=');
    out[percent_decode(part.substr(0, eq))] =
        eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return out;
}

/// "1700000000.123456789" -> nanoseconds.
std::int64_t parse_since(const std::string& text) {
  const auto dot = text.find('.');
  std::int64_t nanos = std::stoll(text.substr(0, dot)) * 1'000'000'000;
  if (dot != std::string::npos) {
    std::string fraction = text.substr(dot + 1);
    fraction.resize(9, '0');
    nanos += std::stoll(fraction);
  }
  return nanos;
}

struct Answer {
  http::status status = http::status::ok;
  std::string body;
};

/// An answer made once `delay` has passed, without holding up other connections.
struct DeferredAnswer {
  std::chrono::milliseconds delay;
  std::function<Answer()> make;
};

struct StreamRequest {
  std::optional<std::int64_t> since;
  std::vector<std::string> types;
};

}  // namespace

struct Session;

struct FakeDaemon::Impl {
  std::filesystem::path dir;
  std::string path;
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> guard{io.get_executor()};
  std::optional<local::acceptor> acceptor;
  std::thread thread;
  // io thread only. Strong references: an idle event stream has no pending operation to keep its
  // session alive.
  std::vector<std::shared_ptr<Session>> sessions;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::string min_version = "1.24";
  std::string max_version = "1.47";
  bool ping_header = true;
  std::string ping_version;
  bool version_check = true;
  std::map<std::string, json> containers;
  std::map<std::string, std::chrono::milliseconds> inspect_delays;  // by container ID
  std::vector<std::pair<std::uint64_t, json>> history;              // (sequence, event)
  std::uint64_t sequence = 0;
  std::vector<RecordedRequest> requests;
  std::function<void()> list_hook;
  std::size_t streams = 0;

  void run_on_io(const std::function<void()>& work) {
    std::promise<void> done;
    net::post(io, [&] {
      work();
      done.set_value();
    });
    done.get_future().wait();
  }

  void listen();
  void do_accept();
  void close_sessions();
  void deliver(std::uint64_t seq, const json& event);

  std::variant<Answer, DeferredAnswer, StreamRequest> route(const std::string& method,
                                                            const std::string& target);
  std::optional<json> find_container(const std::string& ref) const;
  Answer inspect_answer(const std::string& ref) const;
};

struct Session : std::enable_shared_from_this<Session> {
  FakeDaemon::Impl& daemon;
  local::socket socket;
  net::steady_timer timer{socket.get_executor()};
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  std::deque<std::string> outbox;
  bool writing = false;
  bool close_after_write = false;
  bool keep_alive = true;
  bool streaming = false;
  bool closed = false;
  std::vector<std::string> types;
  std::uint64_t delivered = 0;  // highest event sequence sent

  Session(FakeDaemon::Impl& d, local::socket s) : daemon(d), socket(std::move(s)) {}

  void do_read() {
    request = {};
    http::async_read(
        socket, buffer, request,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return close();
    keep_alive = request.keep_alive();
    auto routed = daemon.route(std::string(request.method_string()), std::string(request.target()));
    if (auto* answer = std::get_if<Answer>(&routed)) return respond(*answer);
    if (auto* deferred = std::get_if<DeferredAnswer>(&routed)) return respond_later(*deferred);
    start_stream(std::get<StreamRequest>(routed));
  }

  void respond_later(DeferredAnswer deferred) {
    timer.expires_after(deferred.delay);
    timer.async_wait(
        [self = shared_from_this(), make = std::move(deferred.make)](beast::error_code ec) {
          if (ec || self->closed) return;
          self->respond(make());
        });
  }

  void respond(const Answer& answer) {
    http::response<http::string_body> response{answer.status, 11};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::date, http_date());
    response.set(http::field::server, "Docker/27.3.1 (linux)");
    {
      const std::lock_guard lock(daemon.mutex);
      if (daemon.ping_header) {
        response.set("Api-Version",
                     daemon.ping_version.empty() ? daemon.max_version : daemon.ping_version);
      }
    }
    response.keep_alive(keep_alive);
    response.body() = answer.body;
    response.prepare_payload();
    std::ostringstream out;
    out << response;
    if (!keep_alive) close_after_write = true;
    send(out.str());
  }

  void start_stream(const StreamRequest& stream) {
    streaming = true;
    types = stream.types;
    std::vector<std::pair<std::uint64_t, json>> replay;
    std::string api_version;
    {
      api_version = daemon.max_version;
      const std::lock_guard lock(daemon.mutex);
      ++daemon.streams;
      delivered = daemon.sequence;
      if (stream.since) {
        for (const auto& [seq, event] : daemon.history) {
          if (event.value("timeNano", std::int64_t{0}) >= *stream.since)
            replay.emplace_back(seq, event);
        }
      }
      daemon.changed.notify_all();
    }
    send(fmt::format(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Date: {}\r\nApi-Version: {}\r\nServer: Docker/27.3.1 (linux)\r\n\r\n",
        http_date(), api_version));
    const auto live_from = delivered;
    for (const auto& [seq, event] : replay) {
      if (seq <= live_from) send_event(event);
    }
  }

  void send_event(const json& event) {
    if (!types.empty() &&
        std::find(types.begin(), types.end(), event.value("Type", "")) == types.end()) {
      return;
    }
    const std::string line = event.dump() + "\n";
    send(fmt::format("{:x}\r\n{}\r\n", line.size(), line));
  }

  void deliver(std::uint64_t seq, const json& event) {
    if (!streaming || closed || seq <= delivered) return;
    delivered = seq;
    send_event(event);
  }

  void end_stream() {
    if (!streaming || closed) return;
    close_after_write = true;
    send("0\r\n\r\n");
  }

  void send(std::string data) {
    outbox.push_back(std::move(data));
    if (!writing) do_write();
  }

  void do_write() {
    if (outbox.empty()) {
      writing = false;
      if (close_after_write) return close();
      if (!streaming) do_read();
      return;
    }
    writing = true;
    net::async_write(socket, net::buffer(outbox.front()),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->outbox.pop_front();
                       self->do_write();
                     });
  }

  void close() {
    if (closed) return;
    closed = true;
    timer.cancel();
    beast::error_code ignored;
    socket.shutdown(local::socket::shutdown_both, ignored);
    socket.close(ignored);
    if (streaming) {
      const std::lock_guard lock(daemon.mutex);
      --daemon.streams;
      daemon.changed.notify_all();
    }
  }
};

void FakeDaemon::Impl::listen() {
  ::unlink(path.c_str());
  acceptor.emplace(io, local::endpoint(path));
  do_accept();
}

void FakeDaemon::Impl::do_accept() {
  acceptor->async_accept([this](beast::error_code ec, local::socket socket) {
    if (ec) return;  // closed
    auto session = std::make_shared<Session>(*this, std::move(socket));
    std::erase_if(sessions, [](const auto& s) { return s->closed; });
    sessions.push_back(session);
    session->do_read();
    do_accept();
  });
}

void FakeDaemon::Impl::close_sessions() {
  for (const auto& session : sessions) session->close();
  sessions.clear();
}

void FakeDaemon::Impl::deliver(std::uint64_t seq, const json& event) {
  for (const auto& session : sessions) session->deliver(seq, event);
}

std::optional<json> FakeDaemon::Impl::find_container(const std::string& ref) const {
  if (const auto it = containers.find(ref); it != containers.end()) return it->second;
  const json* prefix_match = nullptr;
  for (const auto& [id, container] : containers) {
    if (container.value("Name", "") == "/" + ref) return container;
    if (!ref.empty() && id.starts_with(ref)) {
      if (prefix_match != nullptr) return std::nullopt;  // ambiguous
      prefix_match = &container;
    }
  }
  if (prefix_match != nullptr) return *prefix_match;
  return std::nullopt;
}

Answer FakeDaemon::Impl::inspect_answer(const std::string& ref) const {
  if (auto container = find_container(ref)) return Answer{http::status::ok, container->dump()};
  return Answer{http::status::not_found, json{{"message", "No such container: " + ref}}.dump()};
}

std::variant<Answer, DeferredAnswer, StreamRequest> FakeDaemon::Impl::route(
    const std::string& method, const std::string& target) {
  std::function<void()> hook;
  std::unique_lock lock(mutex);
  requests.push_back({method, target});
  const auto message = [](std::string text) { return json{{"message", std::move(text)}}.dump(); };
  if (method != "GET") return Answer{http::status::method_not_allowed, message("GET only")};

  const auto question = target.find('?');
  std::string resource = target.substr(0, question);
  const auto query =
      parse_query(question == std::string::npos ? std::string_view()
                                                : std::string_view(target).substr(question + 1));
  if (resource == "/_ping") return Answer{http::status::ok, "OK"};

  if (resource.starts_with("/v")) {
    const auto slash = resource.find('/', 1);
    const auto version = parse_api_version(resource.substr(2, slash - 2));
    if (version && slash != std::string::npos) {
      const auto min = *parse_api_version(min_version);
      const auto max = *parse_api_version(max_version);
      if (version_check && *version < min) {
        return Answer{http::status::bad_request,
                      message(fmt::format("client version {} is too old. Minimum supported API "
                                          "version is {}, please upgrade your client to a newer "
                                          "version",
                                          version->to_string(), min_version))};
      }
      if (version_check && *version > max) {
        return Answer{http::status::bad_request,
                      message(fmt::format("client version {} is too new. Maximum supported API "
                                          "version is {}",
                                          version->to_string(), max_version))};
      }
      resource = resource.substr(slash);
    }
  }

  if (resource == "/version") {
    return Answer{http::status::ok, json{{"Version", "27.3.1"},
                                         {"ApiVersion", max_version},
                                         {"MinAPIVersion", min_version},
                                         {"Os", "linux"}}
                                        .dump()};
  }
  if (resource == "/containers/json") {
    const bool all = query.contains("all") && query.at("all") != "0" && query.at("all") != "false";
    json list = json::array();
    for (const auto& [id, container] : containers) {
      const std::string state = container["State"].value("Status", "");
      if (!all && state != "running") continue;
      list.push_back({{"Id", id},
                      {"Names", json::array({container.value("Name", "")})},
                      {"State", state},
                      {"Labels", container["Config"]["Labels"]}});
    }
    hook = list_hook;
    lock.unlock();
    // The hook may change containers (it takes the lock itself); the answer is already made.
    if (hook) hook();
    return Answer{http::status::ok, list.dump()};
  }
  if (resource.starts_with("/containers/") && resource.ends_with("/json")) {
    const std::string ref = percent_decode(resource.substr(12, resource.size() - 12 - 5));
    const auto container = find_container(ref);
    const auto delay =
        container ? inspect_delays.find(container->value("Id", "")) : inspect_delays.end();
    if (delay == inspect_delays.end()) return inspect_answer(ref);
    // Made when the delay ends: the state then, as a daemon answers once a container has stopped.
    return DeferredAnswer{delay->second, [this, ref] {
                            const std::lock_guard later(mutex);
                            return inspect_answer(ref);
                          }};
  }
  if (resource == "/events") {
    StreamRequest stream;
    if (query.contains("since")) stream.since = parse_since(query.at("since"));
    if (query.contains("filters")) {
      const auto filters = json::parse(query.at("filters"), nullptr, false);
      if (filters.is_object() && filters.contains("type")) {
        for (const auto& type : filters["type"]) stream.types.push_back(type.get<std::string>());
      }
    }
    return stream;
  }
  return Answer{http::status::not_found, message("page not found")};
}

FakeDaemon::FakeDaemon() : impl_(std::make_shared<Impl>()) {
  std::string pattern = (std::filesystem::temp_directory_path() / "berth-fake-docker-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  impl_->dir = pattern;
  impl_->path = (impl_->dir / "docker.sock").string();
  impl_->listen();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

FakeDaemon::~FakeDaemon() {
  impl_->run_on_io([impl = impl_.get()] {
    if (impl->acceptor) impl->acceptor->close();
    impl->close_sessions();
  });
  impl_->guard.reset();
  impl_->io.stop();
  impl_->thread.join();
  std::error_code ignored;
  std::filesystem::remove_all(impl_->dir, ignored);
}

std::string FakeDaemon::socket_path() const {
  return impl_->path;
}
std::string FakeDaemon::endpoint() const {
  return "unix://" + impl_->path;
}

void FakeDaemon::set_api_versions(std::string min, std::string max) {
  const std::lock_guard lock(impl_->mutex);
  impl_->min_version = std::move(min);
  impl_->max_version = std::move(max);
}

void FakeDaemon::set_ping_header(bool present) {
  const std::lock_guard lock(impl_->mutex);
  impl_->ping_header = present;
}

void FakeDaemon::set_version_check(bool enforce) {
  const std::lock_guard lock(impl_->mutex);
  impl_->version_check = enforce;
}

void FakeDaemon::set_ping_version(std::string version) {
  const std::lock_guard lock(impl_->mutex);
  impl_->ping_version = std::move(version);
}

void FakeDaemon::put_container(json inspect) {
  const std::lock_guard lock(impl_->mutex);
  const std::string id = inspect.at("Id").get<std::string>();
  impl_->containers[id] = std::move(inspect);
}

void FakeDaemon::remove_container(const std::string& id) {
  const std::lock_guard lock(impl_->mutex);
  impl_->containers.erase(id);
}

void FakeDaemon::modify_container(const std::string& id, const std::function<void(json&)>& edit) {
  const std::lock_guard lock(impl_->mutex);
  edit(impl_->containers.at(id));
}

void FakeDaemon::set_inspect_delay(const std::string& id, std::chrono::milliseconds delay) {
  const std::lock_guard lock(impl_->mutex);
  if (delay == delay.zero()) {
    impl_->inspect_delays.erase(id);
  } else {
    impl_->inspect_delays[id] = delay;
  }
}

void FakeDaemon::push_event(json event) {
  std::uint64_t seq = 0;
  {
    const std::lock_guard lock(impl_->mutex);
    if (!event.contains("timeNano")) {
      const auto now = now_nano();
      event["timeNano"] = now;
      event["time"] = now / 1'000'000'000;
    }
    seq = ++impl_->sequence;
    impl_->history.emplace_back(seq, event);
  }
  net::post(impl_->io, [impl = impl_.get(), seq, event] { impl->deliver(seq, event); });
}

void FakeDaemon::drop_event_streams() {
  impl_->run_on_io([impl = impl_.get()] {
    for (const auto& session : impl->sessions) session->end_stream();
  });
}

void FakeDaemon::restart() {
  impl_->run_on_io([impl = impl_.get()] { impl->close_sessions(); });
  const std::lock_guard lock(impl_->mutex);
  impl_->history.clear();
}

void FakeDaemon::set_listening(bool listening) {
  impl_->run_on_io([impl = impl_.get(), listening] {
    if (listening) {
      if (!impl->acceptor || !impl->acceptor->is_open()) impl->listen();
      return;
    }
    if (impl->acceptor) impl->acceptor->close();
    ::unlink(impl->path.c_str());
    impl->close_sessions();
  });
}

void FakeDaemon::on_list(std::function<void()> hook) {
  const std::lock_guard lock(impl_->mutex);
  impl_->list_hook = std::move(hook);
}

std::size_t FakeDaemon::open_event_streams() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->streams;
}

bool FakeDaemon::wait_for_event_streams(std::size_t count,
                                        std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->streams >= count; });
}

std::vector<RecordedRequest> FakeDaemon::requests() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

void FakeDaemon::clear_requests() {
  const std::lock_guard lock(impl_->mutex);
  impl_->requests.clear();
}

json FakeDaemon::make_container(const std::string& id, const std::string& name,
                                std::map<std::string, std::string> labels, const std::string& ip) {
  return json{
      {"Id", id},
      {"Name", "/" + name},
      {"Config", {{"Labels", labels}, {"ExposedPorts", {{"80/tcp", json::object()}}}}},
      {"State", {{"Status", "running"}, {"Running", true}}},
      {"HostConfig", {{"NetworkMode", "web"}}},
      {"NetworkSettings",
       {{"Ports", {{"80/tcp", nullptr}}},
        {"Networks", {{"web", {{"IPAddress", ip}, {"GlobalIPv6Address", ""}}}}}}},
  };
}

json FakeDaemon::container_event(const std::string& action, const std::string& id,
                                 std::map<std::string, std::string> attributes) {
  return json{{"Type", "container"},
              {"Action", action},
              {"Actor", {{"ID", id}, {"Attributes", attributes}}},
              {"scope", "local"}};
}

json FakeDaemon::network_event(const std::string& action, const std::string& container_id,
                               const std::string& network) {
  return json{
      {"Type", "network"},
      {"Action", action},
      {"Actor",
       {{"ID", std::string(64, 'e')},
        {"Attributes", {{"container", container_id}, {"name", network}, {"type", "bridge"}}}}},
      {"scope", "local"}};
}

std::string container_id(int seed) {
  const auto hash = static_cast<std::uint32_t>(static_cast<std::uint32_t>(seed) * 2654435761u);
  std::string id;
  for (int i = 0; i < 8; ++i) id += fmt::format("{:08x}", hash ^ static_cast<std::uint32_t>(i));
  return id;
}

}  // namespace berth::docker::test
