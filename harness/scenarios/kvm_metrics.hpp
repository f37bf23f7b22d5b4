// Turning KVM binary-stat deltas and guest-recorded histograms into result counters.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/histogram.hpp"
#include "kvm/guest_vm.hpp"
#include "results/result_file.hpp"

namespace gpc::scenarios {

// Adds `kvm_<stat>` counters: vCPU stats (summed over vCPUs) and VM stats; a VM stat
// whose name a vCPU stat already took becomes `kvm_vm_<stat>`.
void add_kvm_stat_counters(BenchmarkRecord& record, const std::map<std::string, double>& vcpu_stats,
                           const std::map<std::string, double>& vm_stats);

// Decodes a histogram a guest recorded in its memory (common/loglinear.h layout).
Histogram read_guest_histogram(const kvm::GuestVm& vm, uint64_t gpa);

// The stats a table shows (when present), in this order.
const std::vector<std::string>& key_kvm_stats();

// "KVM stats (deltas):  exits 123  ..." from a record's kvm_<stat> counters, key_kvm_stats() order.
void print_kvm_stats_line(const std::map<std::string, double>& counters);

}  // namespace gpc::scenarios
