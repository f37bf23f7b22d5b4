// NUMA placement of guest memory through libnuma. With one node everything lands on node 0
// and binding to node 0 is a no-op that still succeeds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gpc {

// Number of configured NUMA nodes (1 when libnuma reports NUMA as unavailable).
int numa_node_count();

// Binds [addr, addr+len) to `node` (MPOL_BIND via numa_tonode_memory) before it is touched.
// Throws UsageError if the node does not exist.
void bind_to_node(void* addr, size_t len, int node);

// The node that holds the page at `addr` now (move_pages query), -1 if not present.
int node_of_page(const void* addr);

}  // namespace gpc
