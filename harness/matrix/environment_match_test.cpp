#include "matrix/environment_match.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace gpc::matrix {
namespace {
using nlohmann::json;

json environment() {
  return {{"kernel", {{"release", "6.18.0"}, {"version", "#1 SMP"}}},
          {"cpu", {{"model", "AMD EPYC"}, {"clock", {{"ticks_per_ns", 2.1}}}}},
          {"topology", {{"packages", 1}, {"cores", 2}, {"pus", 2}, {"numa_nodes", 1}}},
          {"thp", {{"enabled", "madvise"}, {"defrag", "madvise"}, {"shmem_enabled", "never"}}},
          {"kvm", {{"params", {{"kvm.halt_poll_ns", "200000"}, {"kvm.nx_huge_pages", "N"}}}}},
          {"suite", {{"commit", "4a34f9d"}}},
          {"date", "2026-12-01"},
          {"load_avg", {1.0, 2.0, 3.0}},
          {"host_name", "lab-1"}};
}

TEST(EnvironmentMatch, SameMachineKindIsComparableDespiteHostDateAndLoad) {
  json other = environment();
  other["host_name"] = "lab-2";
  other["date"] = "2026-12-02";
  other["load_avg"] = {5.0, 5.0, 5.0};
  other["kernel"]["version"] = "#2 SMP";
  other["cpu"]["clock"]["ticks_per_ns"] = 2.2;
  EXPECT_TRUE(environment_differences(environment(), other).empty());
}

TEST(EnvironmentMatch, NamesEveryComparedField) {
  const std::vector<std::pair<std::string, std::function<void(json&)>>> cases = {
      {"kernel.release", [](json& e) { e["kernel"]["release"] = "6.19.0"; }},
      {"cpu.model", [](json& e) { e["cpu"]["model"] = "Intel Xeon"; }},
      {"topology.pus", [](json& e) { e["topology"]["pus"] = 4; }},
      {"topology.numa_nodes", [](json& e) { e["topology"]["numa_nodes"] = 2; }},
      {"thp.enabled", [](json& e) { e["thp"]["enabled"] = "always"; }},
      {"thp.shmem_enabled", [](json& e) { e["thp"]["shmem_enabled"] = "advise"; }},
      {"kvm.params.kvm.halt_poll_ns", [](json& e) { e["kvm"]["params"]["kvm.halt_poll_ns"] = "0"; }},
      {"kvm.params.kvm_amd.npt", [](json& e) { e["kvm"]["params"]["kvm_amd.npt"] = "1"; }},
      {"suite.commit", [](json& e) { e["suite"]["commit"] = "deadbee"; }},
      {"cpu.model", [](json& e) { e["cpu"].erase("model"); }},
  };
  for (const auto& [field, change] : cases) {
    json other = environment();
    change(other);
    const auto d = environment_differences(environment(), other);
    ASSERT_EQ(d.size(), 1u) << field;
    EXPECT_EQ(d[0].field, field);
  }
}

TEST(EnvironmentMatch, ReportsTheValues) {
  json other = environment();
  other["kernel"]["release"] = "6.19.0";
  const auto d = environment_differences(environment(), other);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].a, "\"6.18.0\"");
  EXPECT_EQ(d[0].b, "\"6.19.0\"");
}

}  // namespace
}  // namespace gpc::matrix
