#pragma once
// The Docker Engine API as the provider needs it, behind an interface so the provider can be tested
// against a fake. Only GET requests: berth must work behind a read-only socket proxy.

#include <atomic>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/labels/container.hpp"

namespace berth::docker {

/// An Engine API version "major.minor".
struct ApiVersion {
  int major = 1;
  int minor = 0;
  friend auto operator<=>(const ApiVersion&, const ApiVersion&) = default;
  std::string to_string() const;
};

std::optional<ApiVersion> parse_api_version(std::string_view text);

/// The newest API version berth speaks (27.2+); newer daemons are asked for this one.
inline constexpr ApiVersion max_api_version{1, 47};
/// The oldest API version berth accepts.
inline constexpr ApiVersion min_api_version{1, 24};

struct Error {
  enum class Kind {
    connection,   ///< could not reach the daemon, or the transfer broke
    http,         ///< the daemon answered with an error status
    not_found,    ///< 404: the container vanished (routine)
    version,      ///< no API version both sides support
    protocol,     ///< the answer could not be understood
    interrupted,  ///< shutdown() was called
  };
  Kind kind = Kind::connection;
  std::string message;  ///< names the endpoint and, when there is one, the daemon's message
};

template <class T>
using Result = std::variant<T, Error>;

/// What connecting found out.
struct DaemonInfo {
  ApiVersion api_version;  ///< negotiated: min(daemon's, max_api_version)
  ApiVersion daemon_api_version;
  ApiVersion daemon_min_api_version;
  std::string daemon_version;  ///< e.g. "27.3.1"
  /// The daemon's clock (from the Date header), in nanoseconds since the epoch; 0 when unknown.
  std::int64_t daemon_time_nano = 0;
};

/// One message of GET /events.
struct Event {
  std::string type;    ///< container | network | ...
  std::string action;  ///< start, die, health_status: healthy, connect, ...
  std::string actor_id;
  std::map<std::string, std::string> attributes;
  std::int64_t time_nano = 0;
  /// The container the event is about: Actor.ID for container events, Attributes.container for
  /// network events; empty when it concerns no container.
  std::string container_id() const;
};

/// Parses one line of the event stream.
Result<Event> parse_event(std::string_view line);

/// A signal as Docker takes it (for StopSignal and `docker kill -s`) -> its Linux number: a number,
/// or a name with or without "SIG", in any case ("SIGQUIT", "quit", "RTMIN+3"); nullopt when
/// unknown.
std::optional<int> parse_signal(std::string_view text);

/// Parses the body of GET /containers/{id}/json. Fields the daemon may omit or null are optional.
Result<labels::ContainerInfo> parse_inspect(std::string_view body);

/// Parses the body of GET /containers/json into container IDs.
Result<std::vector<std::string>> parse_container_list(std::string_view body);

/// "1700000000.123456789": the form /events?since= takes.
std::string format_since(std::int64_t time_nano);

struct Done {};

class DockerApi {
 public:
  virtual ~DockerApi() = default;

  /// GET /_ping and /vX/version: chooses the API version every later request uses.
  virtual Result<DaemonInfo> connect() = 0;
  /// GET /vX/containers/json?all=1.
  virtual Result<std::vector<std::string>> list_containers() = 0;
  /// GET /vX/containers/{id}/json; Error::Kind::not_found when it is gone.
  virtual Result<labels::ContainerInfo> inspect_container(std::string_view id) = 0;
  /// GET /vX/events?since=...&filters={"type":["container","network"]}: blocks, calling on_event
  /// for each message, until the stream ends (Done), fails, or shutdown() is called (interrupted).
  /// `on_connected` is called once the daemon has answered 200.
  virtual Result<Done> stream_events(std::int64_t since_nano,
                                     const std::function<void(const Event&)>& on_event,
                                     const std::function<void()>& on_connected) = 0;
  /// Makes every running and future call return Error::Kind::interrupted at once (thread-safe).
  virtual void shutdown() = 0;
};

}  // namespace berth::docker
