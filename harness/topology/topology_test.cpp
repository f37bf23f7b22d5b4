#include "topology/topology.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "common/errors.hpp"

namespace gpc {
namespace {

std::vector<int> flatten(const std::vector<std::vector<int>>& groups) {
  std::vector<int> all;
  for (const auto& g : groups) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  return all;
}

TEST(Topology, SyntheticSmtMultiPackage) {
  auto t = Topology::synthetic("package:2 core:4 pu:2");
  EXPECT_TRUE(t.is_synthetic());
  EXPECT_EQ(t.packages(), 2);
  EXPECT_EQ(t.cores(), 8);
  EXPECT_EQ(t.pus(), 16);
  EXPECT_EQ(t.numa_nodes(), 1);
  ASSERT_EQ(t.pus_by_core().size(), 8u);
  for (const auto& core : t.pus_by_core()) EXPECT_EQ(core.size(), 2u);
  EXPECT_EQ(t.pus_by_core()[0], (std::vector<int>{0, 1}));
  EXPECT_EQ(flatten(t.pus_by_numa_node()).size(), 16u);
  EXPECT_EQ(t.summary(), "2 packages, 8 cores, 16 PUs (2 per core), 1 NUMA node");
}

TEST(Topology, SyntheticNumaWithoutPackages) {
  auto t = Topology::synthetic("numa:2 core:2 pu:2");
  EXPECT_EQ(t.packages(), 1);
  EXPECT_EQ(t.numa_nodes(), 2);
  EXPECT_EQ(t.cores(), 4);
  EXPECT_EQ(t.pus_by_numa_node()[0], (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(t.pus_by_numa_node()[1], (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(t.numa_node_os_numbers(), (std::vector<int>{0, 1}));
}

TEST(Topology, SyntheticInterleavedSiblingNumbers) {
  // Like many Intel machines: PU n and PU n+cores are siblings.
  auto t = Topology::synthetic("core:2 pu:2(indexes=0,2,1,3)");
  ASSERT_EQ(t.cores(), 2);
  EXPECT_EQ(t.pus_by_core()[0], (std::vector<int>{0, 2}));
  EXPECT_EQ(t.pus_by_core()[1], (std::vector<int>{1, 3}));
  EXPECT_TRUE(t.has_pu(3));
  EXPECT_FALSE(t.has_pu(4));
  EXPECT_FALSE(t.has_pu(-1));
}

TEST(Topology, SyntheticCaches) {
  auto t = Topology::synthetic("pack:1 l3:1 l2:2 l1d:1 core:1 pu:2");
  auto caches = t.caches();
  ASSERT_EQ(caches.size(), 3u);
  EXPECT_EQ(caches[0].level, 1);
  EXPECT_EQ(caches[0].type, "Data");
  EXPECT_EQ(caches[0].instances, 2);
  EXPECT_EQ(caches[0].pus_sharing, 2);
  EXPECT_GT(caches[0].size_bytes, 0u);
  EXPECT_EQ(caches[2].level, 3);
  EXPECT_EQ(caches[2].instances, 1);
  EXPECT_EQ(caches[2].pus_sharing, 4);
}

TEST(Topology, MalformedSyntheticIsAUsageError) {
  try {
    Topology::synthetic("package:two");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("package:two"), std::string::npos);
  }
}

TEST(Topology, MoveKeepsTheTopology) {
  auto a = Topology::synthetic("core:3 pu:1");
  Topology b = std::move(a);
  EXPECT_EQ(b.cores(), 3);
  a = Topology::synthetic("core:1 pu:1");
  EXPECT_EQ(a.cores(), 1);
}

TEST(Topology, SystemMatchesTheKernelsCpuCount) {
  const auto& t = Topology::system();
  EXPECT_FALSE(t.is_synthetic());
  // hwloc drops PUs outside this process's cpuset cgroup; the thread's affinity lies within.
  cpu_set_t affinity;
  ASSERT_EQ(sched_getaffinity(0, sizeof affinity, &affinity), 0);
  EXPECT_LE(t.pus(), sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GE(t.pus(), CPU_COUNT(&affinity));
  EXPECT_GE(t.cores(), 1);
  EXPECT_LE(t.cores(), t.pus());
  EXPECT_GE(t.numa_nodes(), 1);
  EXPECT_EQ(static_cast<int>(flatten(t.pus_by_core()).size()), t.pus());
  // Every PU belongs to exactly one core.
  auto all = flatten(t.pus_by_core());
  EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), all.size());
}

}  // namespace
}  // namespace gpc
