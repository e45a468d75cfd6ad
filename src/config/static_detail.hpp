#pragma once
// Shared between static.cpp and static_flags.cpp: the value sets that the flag table declares.

#include <string_view>

namespace berth::config {

/// One of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC (upper-case, as the flag parser stores it).
bool is_log_level(std::string_view level);

/// common or json.
bool is_format(std::string_view format);

}  // namespace berth::config
