#pragma once
// Shared between static.cpp and static_flags.cpp: the value sets that the flag table declares.

#include <string_view>

namespace berth::config {

/// One of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC (upper-case, as the flag parser stores it).
bool is_log_level(std::string_view level);

/// common or json.
bool is_format(std::string_view format);

/// An access log field mode: keep or drop.
bool is_field_mode(std::string_view mode);

/// An access log header mode: keep, drop or redact.
bool is_header_mode(std::string_view mode);

}  // namespace berth::config
