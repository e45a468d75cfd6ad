#pragma once
// Entry point addresses (":8080", "127.0.0.1:0", "[::1]:8080", optionally "/tcp") as endpoints.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/ip/tcp.hpp>

namespace berth::api {

struct ListenAddress {
  boost::asio::ip::tcp::endpoint endpoint;
  bool any_host = false;  ///< no host given: every interface (dual-stack) or, to connect, loopback
};

/// The endpoint, or a message saying what is wrong with `address`.
std::variant<ListenAddress, std::string> parse_listen_address(std::string_view address);

}  // namespace berth::api
