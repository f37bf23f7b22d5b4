#include "scenarios/pvclock_scenario.hpp"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "kvm/kvm_test_support.hpp"
#include "scenarios/pingpong_scenario.hpp"

namespace gpc::scenarios {
namespace {

using namespace std::chrono_literals;

TEST(PvclockScenario, TwoVcpusUpdateWithoutViolationsAndWriteAResult) {
  GPC_REQUIRE_KVM();
  PvclockParams p;
  p.vcpus = 2;
  p.run.duration_text = "300ms";
  p.run.json_path = (std::filesystem::temp_directory_path() /
                     ("gpc_pvclock_" + std::to_string(getpid()) + ".json")).string();
  finalize_run_options(p.run);
  const PvclockResult r = run_pvclock(p);
  ASSERT_EQ(r.vcpus.size(), 2u);
  for (const auto& v : r.vcpus) {
    EXPECT_GT(v.updates, 0u) << "vCPU " << v.vcpu;
    EXPECT_EQ(v.violations(), 0u) << "vCPU " << v.vcpu;
    EXPECT_EQ(v.latency.count(), v.updates) << "histogram and counter disagree";
  }
  EXPECT_EQ(r.violations(), 0u);
  const auto& c = r.record.counters;
  EXPECT_EQ(r.record.name, "pvclock/vcpus:2");
  EXPECT_GT(c.at("ops_per_s"), 0);
  EXPECT_GT(c.at("p50_ns"), 0);
  EXPECT_LE(c.at("p50_ns"), c.at("p99_ns"));
  EXPECT_GT(c.at("kvm_exits"), 0);
  EXPECT_EQ(r.run["vcpus"], 2);

  write_run_result(p.run, r.run, {r.record});
  const ResultFile back = read_result_file(p.run.json_path);
  std::filesystem::remove(p.run.json_path);
  ASSERT_EQ(back.benchmarks.size(), 1u);
  EXPECT_EQ(back.context["run"]["scenario"], "pvclock");
  EXPECT_TRUE(back.benchmarks[0].counters.count("kvm_exits"));
  EXPECT_EQ(back.benchmarks[0].counters.at("violations"), 0);
}

TEST(PingpongScenario, CountsTimedExits) {
  GPC_REQUIRE_KVM();
  PingpongParams p;
  p.run.duration_text = "200ms";
  finalize_run_options(p.run);
  const PingpongResult r = run_pingpong(p);
  ASSERT_EQ(r.exits.size(), 1u);
  EXPECT_GT(r.exits[0], 0u);
  // every timed KVM_RUN ended in a bench exit, except possibly the last one
  EXPECT_GE(r.round_trip.count(), r.exits[0]);
  EXPECT_LE(r.round_trip.count(), r.exits[0] + 1);
  EXPECT_GT(r.record.counters.at("p50_ns"), 0);
}

}  // namespace
}  // namespace gpc::scenarios
