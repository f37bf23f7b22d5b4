// Parsing of human durations ("3s", "500ms", "10us", "250ns", "1m") and rates ("1000", "2k", "1.5M").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace gpc {

using Nanos = std::chrono::nanoseconds;

// Throws UsageError naming `what` (e.g. "--duration") and the accepted forms.
Nanos parse_duration(std::string_view text, std::string_view what = "duration");

// A rate in Hz; "0" means free-running. Negative or malformed rates throw UsageError.
double parse_rate_hz(std::string_view text, std::string_view what = "--rate");

// "1.5 ms", "37 us", "124 ns": compact, for tables.
std::string format_ns(double ns);

}  // namespace gpc
