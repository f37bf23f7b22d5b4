#include "scenarios/kvm_metrics.hpp"

#include <fmt/format.h>

#include "common/loglinear.h"

namespace gpc::scenarios {

void add_kvm_stat_counters(BenchmarkRecord& record, const std::map<std::string, double>& vcpu_stats,
                           const std::map<std::string, double>& vm_stats) {
  for (const auto& [name, v] : vcpu_stats) record.counters["kvm_" + name] = v;
  for (const auto& [name, v] : vm_stats) {
    const std::string key = vcpu_stats.count(name) ? "kvm_vm_" + name : "kvm_" + name;
    record.counters[key] = v;
  }
}

Histogram read_guest_histogram(const kvm::GuestVm& vm, uint64_t gpa) {
  const auto* buckets =
      static_cast<const uint64_t*>(vm.vm().gpa_to_hva(gpa, GPC_LL_BUCKETS * sizeof(uint64_t)));
  Histogram h;
  for (uint32_t i = 0; i < GPC_LL_BUCKETS; ++i) h.add_bucket(i, buckets[i]);
  return h;
}

const std::vector<std::string>& key_kvm_stats() {
  static const std::vector<std::string> names = {
      "exits", "insn_emulation", "signal_exits", "pf_taken", "pf_fixed", "pf_guest",
      "irq_exits", "halt_exits", "remote_tlb_flush", "mmu_shadow_zapped", "pages_4k", "pages_2m"};
  return names;
}

void print_kvm_stats_line(const std::map<std::string, double>& counters) {
  std::string stats;
  for (const std::string& name : key_kvm_stats())
    if (auto it = counters.find("kvm_" + name); it != counters.end())
      stats += fmt::format("  {} {:.0f}", name, it->second);
  fmt::print("KVM stats (deltas):{}\n", stats);
}

}  // namespace gpc::scenarios
