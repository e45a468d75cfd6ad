#pragma once

#include <string_view>

namespace berth::api {

/// src/api/dashboard.html, embedded at build time.
std::string_view dashboard_html();

}  // namespace berth::api
