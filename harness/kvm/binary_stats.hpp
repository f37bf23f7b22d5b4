// KVM binary statistics (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst): the
// descriptors are read once, values on demand; runs report deltas by stat name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kvm/unique_fd.hpp"

namespace gpc::kvm {

struct StatDescriptor {
  std::string name;
  uint32_t flags = 0;  // KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | KVM_STATS_BASE_*
  uint32_t offset = 0; // into the data block
  uint16_t size = 0;   // number of u64 values (1 for plain counters, >1 for histograms)
  bool cumulative() const;
};

struct StatSample {
  uint64_t value = 0;
  bool cumulative = true;  // a counter (delta makes sense) vs instant/peak (take the value)
};
using StatsSnapshot = std::map<std::string, StatSample>;

class BinaryStats {
 public:
  explicit BinaryStats(UniqueFd fd);
  const std::vector<StatDescriptor>& descriptors() const { return desc_; }
  // Reads every single-value stat; histogram stats are summed into one count.
  StatsSnapshot read() const;

 private:
  UniqueFd fd_;
  uint32_t data_offset_ = 0;
  uint32_t data_size_ = 0;
  std::vector<StatDescriptor> desc_;
};

// Per stat: after - before for cumulative stats, the `after` value for instant and peak
// stats. Stats present in only one snapshot are left out.
std::map<std::string, double> stats_delta(const StatsSnapshot& before, const StatsSnapshot& after);

// Adds `delta` into `into` (summing the same stat over vCPUs).
void accumulate_stats(std::map<std::string, double>& into, const std::map<std::string, double>& delta);

}  // namespace gpc::kvm
