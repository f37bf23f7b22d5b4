// The CPU feature flags the kernel reports in /proc/cpuinfo ("flags" on x86).
#pragma once

#include <set>
#include <string>

namespace gpc {

// Flags of the first CPU listed in /proc/cpuinfo; empty if the file has none.
std::set<std::string> read_cpu_flags();

// Parses the flags out of /proc/cpuinfo-formatted text (first "flags" line).
std::set<std::string> parse_cpu_flags(const std::string& cpuinfo);

}  // namespace gpc
