// Live probes of the memory operations the invalidators and verifiers rely on. Each is
// tried for real on a small private region (never a system setting) and reported as
// {works, reason}; the reason names the errno and the likely cause.
#pragma once

#include <nlohmann/json.hpp>

namespace gpc {

// {memfd, punch_hole, madv_collapse, pagemap, kpageflags, compact_memory, move_pages}
nlohmann::json probe_memory_operations();

// Whether the calling process has CAP_SYS_ADMIN in its effective set.
bool has_cap_sys_admin();

}  // namespace gpc
