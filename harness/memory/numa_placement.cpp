#include "memory/numa_placement.hpp"

#include <numa.h>
#include <numaif.h>

#include <string>

#include "common/errors.hpp"

namespace gpc {

int numa_node_count() {
  if (numa_available() < 0) return 1;
  const int n = numa_num_configured_nodes();
  return n > 0 ? n : 1;
}

void bind_to_node(void* addr, size_t len, int node) {
  if (node < 0 || node >= numa_node_count())
    throw UsageError("NUMA node " + std::to_string(node) + " does not exist: this machine has nodes 0-" +
                     std::to_string(numa_node_count() - 1));
  if (numa_available() < 0) return;  // no NUMA support in the kernel: everything is node 0
  // numa_tonode_memory reports failures only through numa_error(); mbind directly so a
  // failure surfaces as an exception naming the call.
  struct bitmask* nodes = numa_allocate_nodemask();
  numa_bitmask_setbit(nodes, static_cast<unsigned>(node));
  const long rc = mbind(addr, len, MPOL_BIND, nodes->maskp, nodes->size + 1, 0);
  const int err = errno;
  numa_free_nodemask(nodes);
  if (rc < 0) throw SystemError("mbind(node " + std::to_string(node) + ")", err);
}

int node_of_page(const void* addr) {
  void* pages[1] = {const_cast<void*>(addr)};
  int status[1] = {-1};
  if (move_pages(0, 1, pages, nullptr, status, 0) < 0) return -1;
  return status[0] >= 0 ? status[0] : -1;
}

}  // namespace gpc
