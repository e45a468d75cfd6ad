// Pure parsing of Engine API answers; nlohmann's exceptions never leave this file.

#include "berth/docker/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

namespace berth::docker {

namespace {

using nlohmann::json;

/// The string at `key` of `object`, or "" when it is absent or not a string.
std::string string_at(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

/// The object at `key`, or an empty object when it is absent or null.
const json& object_at(const json& object, std::string_view key) {
  static const json empty = json::object();
  if (!object.is_object()) return empty;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return empty;
  return *it;
}

Result<json> parse_json(std::string_view body, std::string_view what) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    return Error{Error::Kind::protocol, fmt::format("{} is not valid JSON", what)};
  }
  return parsed;
}

/// "80/tcp" -> {80, "tcp"}; a port without a protocol is tcp.
std::optional<labels::ContainerPort> parse_port_key(std::string_view key) {
  labels::ContainerPort port;
  std::string_view number = key;
  if (const auto slash = key.find('/'); slash != std::string_view::npos) {
    number = key.substr(0, slash);
    port.protocol = std::string(key.substr(slash + 1));
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  port.number = static_cast<std::uint16_t>(value);
  return port;
}

/// Linux numbering, as Docker's own table on Linux.
constexpr std::pair<std::string_view, int> signal_names[] = {
    {"HUP", 1},   {"INT", 2},   {"QUIT", 3},  {"ILL", 4},     {"TRAP", 5},    {"ABRT", 6},
    {"IOT", 6},   {"BUS", 7},   {"FPE", 8},   {"KILL", 9},    {"USR1", 10},   {"SEGV", 11},
    {"USR2", 12}, {"PIPE", 13}, {"ALRM", 14}, {"TERM", 15},   {"STKFLT", 16}, {"CHLD", 17},
    {"CLD", 17},  {"CONT", 18}, {"STOP", 19}, {"TSTP", 20},   {"TTIN", 21},   {"TTOU", 22},
    {"URG", 23},  {"XCPU", 24}, {"XFSZ", 25}, {"VTALRM", 26}, {"PROF", 27},   {"WINCH", 28},
    {"IO", 29},   {"POLL", 29}, {"PWR", 30},  {"SYS", 31},    {"UNUSED", 31},
};
constexpr int signal_rtmin = 34;
constexpr int signal_rtmax = 64;

/// The whole of `text` as a non-negative decimal number.
std::optional<int> whole_number(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

/// RTMIN, RTMIN+n, RTMAX, RTMAX-n (systemd images stop with SIGRTMIN+3).
std::optional<int> realtime_signal(std::string_view name) {
  const bool from_min = name.starts_with("RTMIN");
  if (!from_min && !name.starts_with("RTMAX")) return std::nullopt;
  const int base = from_min ? signal_rtmin : signal_rtmax;
  name.remove_prefix(5);
  if (name.empty()) return base;
  const auto offset =
      name.front() == (from_min ? '+' : '-') ? whole_number(name.substr(1)) : std::nullopt;
  if (!offset || *offset > signal_rtmax - signal_rtmin) return std::nullopt;
  return from_min ? base + *offset : base - *offset;
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (const auto number = whole_number(text)) {
    if (*number >= 1 && *number <= signal_rtmax) return number;
    return std::nullopt;
  }
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string_view bare = name;
  if (bare.starts_with("SIG")) bare.remove_prefix(3);
  for (const auto& [known, number] : signal_names) {
    if (bare == known) return number;
  }
  return realtime_signal(bare);
}

std::string ApiVersion::to_string() const {
  return fmt::format("{}.{}", major, minor);
}

std::optional<ApiVersion> parse_api_version(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  ApiVersion version;
  const auto parse = [](std::string_view part, int& out) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return !part.empty() && ec == std::errc{} && end == part.data() + part.size() && out >= 0;
  };
  if (!parse(text.substr(0, dot), version.major) || !parse(text.substr(dot + 1), version.minor)) {
    return std::nullopt;
  }
  return version;
}

std::string Event::container_id() const {
  if (type == "container") return actor_id;
  if (type == "network") {
    const auto it = attributes.find("container");
    if (it != attributes.end()) return it->second;
  }
  return {};
}

Result<Event> parse_event(std::string_view line) {
  auto parsed = parse_json(line, "event");
  if (auto* error = std::get_if<Error>(&parsed)) return std::move(*error);
  const json& object = std::get<json>(parsed);
  if (!object.is_object()) return Error{Error::Kind::protocol, "event is not a JSON object"};
  Event event;
  event.type = string_at(object, "Type");
  event.action = string_at(object, "Action");
  const json& actor = object_at(object, "Actor");
  event.actor_id = string_at(actor, "ID");
  for (const auto& [key, value] : object_at(actor, "Attributes").items()) {
    if (value.is_string()) event.attributes.emplace(key, value.get<std::string>());
  }
  if (const auto it = object.find("timeNano"); it != object.end() && it->is_number_integer()) {
    event.time_nano = it->get<std::int64_t>();
  } else if (const auto t = object.find("time"); t != object.end() && t->is_number_integer()) {
    event.time_nano = t->get<std::int64_t>() * 1'000'000'000;
  }
  if (event.type.empty() || event.action.empty()) {
    return Error{Error::Kind::protocol, fmt::format("event without Type or Action: {}", line)};
  }
  return event;
}

Result<labels::ContainerInfo> parse_inspect(std::string_view body) {
  auto parsed = parse_json(body, "container inspect answer");
  if (auto* error = std::get_if<Error>(&parsed)) return std::move(*error);
  const json& object = std::get<json>(parsed);
  labels::ContainerInfo info;
  info.id = string_at(object, "Id");
  if (info.id.empty()) {
    return Error{Error::Kind::protocol, "container inspect answer has no Id"};
  }
  info.name = string_at(object, "Name");
  if (info.name.starts_with('/')) info.name.erase(0, 1);

  const json& config = object_at(object, "Config");
  for (const auto& [key, value] : object_at(config, "Labels").items()) {
    if (value.is_string()) info.labels.emplace(key, value.get<std::string>());
  }
  // Docker stops with SIGTERM unless told otherwise. A signal berth cannot name is 0, which makes
  // every kill drain the container: a stopping container that still gets requests fails them, while
  // one drained by a mere reload signal only waits, out of routing, for its next start.
  if (const std::string stop_signal = string_at(config, "StopSignal"); !stop_signal.empty()) {
    info.stop_signal = parse_signal(stop_signal).value_or(0);
  }
  const json& state = object_at(object, "State");
  info.state = string_at(state, "Status");
  info.health = string_at(object_at(state, "Health"), "Status");
  info.network_mode = string_at(object_at(object, "HostConfig"), "NetworkMode");

  const json& settings = object_at(object, "NetworkSettings");
  for (const auto& [name, network] : object_at(settings, "Networks").items()) {
    info.networks.emplace(name, labels::ContainerNetwork{string_at(network, "IPAddress"),
                                                         string_at(network, "GlobalIPv6Address")});
  }

  // Published ports first (they carry the bindings), then exposed ones not seen yet.
  for (const auto& [key, bindings] : object_at(settings, "Ports").items()) {
    auto port = parse_port_key(key);
    if (!port) continue;
    if (bindings.is_array()) {
      for (const auto& binding : bindings) {
        const std::string host_port = string_at(binding, "HostPort");
        if (host_port.empty()) continue;
        port->host_ip = string_at(binding, "HostIp");
        port->host_port = host_port;
        break;
      }
    }
    info.ports.push_back(std::move(*port));
  }
  for (const auto& [key, ignored] : object_at(config, "ExposedPorts").items()) {
    auto port = parse_port_key(key);
    if (!port) continue;
    const bool known = std::any_of(info.ports.begin(), info.ports.end(), [&](const auto& p) {
      return p.number == port->number && p.protocol == port->protocol;
    });
    if (!known) info.ports.push_back(std::move(*port));
  }
  std::sort(info.ports.begin(), info.ports.end(), [](const auto& a, const auto& b) {
    return std::tie(a.number, a.protocol) < std::tie(b.number, b.protocol);
  });
  return info;
}

Result<std::vector<std::string>> parse_container_list(std::string_view body) {
  auto parsed = parse_json(body, "container list");
  if (auto* error = std::get_if<Error>(&parsed)) return std::move(*error);
  const json& array = std::get<json>(parsed);
  if (!array.is_array()) return Error{Error::Kind::protocol, "container list is not a JSON array"};
  std::vector<std::string> ids;
  for (const auto& item : array) {
    std::string id = string_at(item, "Id");
    if (!id.empty()) ids.push_back(std::move(id));
  }
  return ids;
}

std::string format_since(std::int64_t time_nano) {
  if (time_nano < 0) time_nano = 0;
  return fmt::format("{}.{:09}", time_nano / 1'000'000'000, time_nano % 1'000'000'000);
}

}  // namespace berth::docker
