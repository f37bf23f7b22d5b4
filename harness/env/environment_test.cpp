#include "env/environment.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "env/sysfs.hpp"
#include "topology/topology.hpp"

namespace gpc {
namespace {

const nlohmann::json& env() {
  static const nlohmann::json e = capture_environment();
  return e;
}

TEST(Environment, KeepsTheSkeletonKeysAndGoogleBenchmarkFields) {
  for (const char* k : {"date", "host_name", "num_cpus", "kernel", "suite", "mhz_per_cpu",
                        "cpu_scaling_enabled", "caches", "load_avg", "library_build_type"})
    EXPECT_TRUE(env().contains(k)) << k;
  EXPECT_EQ(env()["num_cpus"].get<long>(), sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_EQ(env()["load_avg"].size(), 3u);
  EXPECT_FALSE(env()["suite"]["version"].get<std::string>().empty());
}

TEST(Environment, KernelAndCpu) {
  const auto& k = env()["kernel"];
  EXPECT_FALSE(k["release"].get<std::string>().empty());
  EXPECT_EQ(k["cmdline"].get<std::string>(), read_text_file("/proc/cmdline").text.value_or(""));
  const auto& cpu = env()["cpu"];
  EXPECT_TRUE(cpu["flags"].contains("constant_tsc"));
  EXPECT_TRUE(cpu["flags"].contains("hypervisor"));
  const std::string source = cpu["clock"]["source"];
  EXPECT_TRUE(source == "TSC" || source == "CLOCK_MONOTONIC") << source;
}

TEST(Environment, TopologyMatchesHwloc) {
  const auto& t = env()["topology"];
  const auto& sys = Topology::system();
  EXPECT_EQ(t["cores"].get<int>(), sys.cores());
  EXPECT_EQ(t["pus"].get<int>(), sys.pus());
  EXPECT_EQ(t["packages"].get<int>(), sys.packages());
  EXPECT_EQ(t["numa_nodes"].get<int>(), sys.numa_nodes());
  EXPECT_EQ(env()["numa"]["nodes"].get<int>(), sys.numa_nodes());
  EXPECT_EQ(t["caches"].size(), env()["caches"].size());
}

TEST(Environment, KvmCapsAndParamsComeFromTheKernel) {
  const auto& kvm = env()["kvm"];
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    EXPECT_FALSE(kvm["available"].get<bool>());
    EXPECT_FALSE(kvm["reason"].get<std::string>().empty());
  } else {
    ::close(fd);
    EXPECT_EQ(kvm["api_version"].get<int>(), 12);
    for (const char* cap : {"XEN_HVM", "HALT_POLL", "KVMCLOCK_CTRL", "BINARY_STATS_FD",
                            "USER_MEMORY2", "GUEST_MEMFD", "NR_VCPUS", "MAX_VCPUS"})
      EXPECT_TRUE(kvm["caps"].contains(cap)) << cap;
    EXPECT_GE(kvm["caps"]["MAX_VCPUS"].get<int>(), kvm["caps"]["NR_VCPUS"].get<int>());
  }
  // Every readable kvm* module parameter appears as "module.param" with the file's value.
  std::error_code ec;
  int seen = 0;
  for (const auto& mod : std::filesystem::directory_iterator("/sys/module", ec)) {
    const std::string name = mod.path().filename();
    if (name.rfind("kvm", 0) != 0) continue;
    for (const auto& p : std::filesystem::directory_iterator(mod.path() / "parameters", ec)) {
      auto f = read_text_file(p.path());
      if (!f.text) continue;
      ++seen;
      EXPECT_EQ(kvm["params"][name + "." + p.path().filename().string()], *f.text);
    }
  }
  EXPECT_EQ(static_cast<int>(kvm["params"].size()), seen);
}

TEST(Environment, ThpSelectedValuesMatchTheRawText) {
  const auto& thp = env()["thp"];
  if (!thp["available"].get<bool>()) GTEST_SKIP() << thp["reason"].get<std::string>();
  for (const char* k : {"enabled", "defrag", "shmem_enabled"}) {
    const std::string raw = thp["raw"][k];
    EXPECT_NE(raw.find("[" + thp[k].get<std::string>() + "]"), std::string::npos) << k << ": " << raw;
  }
}

TEST(Environment, PerfAndProbesCarryReasons) {
  const auto& perf = env()["perf"];
  EXPECT_TRUE(perf.contains("paranoid"));
  if (!perf["hardware_events"]["available"].get<bool>()) {
    EXPECT_FALSE(perf["hardware_events"]["reason"].get<std::string>().empty());
  }
  for (const auto& [name, probe] : env()["memory"].items()) {
    if (!probe["works"].get<bool>()) {
      EXPECT_FALSE(probe["reason"].get<std::string>().empty()) << name;
    }
  }
  // The pagemap probe sees PFNs exactly when the process has CAP_SYS_ADMIN.
  EXPECT_EQ(env()["memory"]["pagemap"]["works"].get<bool>(), env()["process"]["cap_sys_admin"].get<bool>());
}

}  // namespace
}  // namespace gpc
