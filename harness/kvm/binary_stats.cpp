#include "kvm/binary_stats.hpp"

#include <linux/kvm.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/errors.hpp"
#include "kvm/kvm_ioctl.hpp"

namespace gpc::kvm {

bool StatDescriptor::cumulative() const {
  const uint32_t type = flags & KVM_STATS_TYPE_MASK;
  return type == KVM_STATS_TYPE_CUMULATIVE || type == KVM_STATS_TYPE_LINEAR_HIST ||
         type == KVM_STATS_TYPE_LOG_HIST;
}

namespace {

void pread_exact(int fd, void* buf, size_t len, off_t offset, const char* what) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd, static_cast<char*>(buf) + done, len - done,
                              offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(std::string("pread(KVM stats ") + what + ")", errno);
    if (n == 0) throw SystemError(std::string("pread(KVM stats ") + what + "): short read", EIO);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

BinaryStats::BinaryStats(UniqueFd fd) : fd_(std::move(fd)) {
  kvm_stats_header header{};
  pread_exact(fd_.get(), &header, sizeof header, 0, "header");
  const size_t desc_size = kStatsDescHeaderSize + header.name_size;
  std::vector<unsigned char> raw(desc_size * header.num_desc);
  pread_exact(fd_.get(), raw.data(), raw.size(), header.desc_offset, "descriptors");
  uint32_t end = 0;
  for (uint32_t i = 0; i < header.num_desc; ++i) {
    // Field by field at the C layout's offsets (see kStatsDescHeaderSize).
    const unsigned char* d = raw.data() + i * desc_size;
    StatDescriptor sd;
    std::memcpy(&sd.flags, d + 0, sizeof sd.flags);
    std::memcpy(&sd.size, d + 6, sizeof sd.size);
    std::memcpy(&sd.offset, d + 8, sizeof sd.offset);
    const char* name = reinterpret_cast<const char*>(d + kStatsDescHeaderSize);
    sd.name.assign(name, strnlen(name, header.name_size));
    end = std::max(end, sd.offset + static_cast<uint32_t>(sd.size * sizeof(uint64_t)));
    desc_.push_back(std::move(sd));
  }
  data_offset_ = header.data_offset;
  data_size_ = end;
}

StatsSnapshot BinaryStats::read() const {
  std::vector<unsigned char> data(data_size_);
  if (data_size_) pread_exact(fd_.get(), data.data(), data.size(), data_offset_, "data");
  StatsSnapshot snap;
  for (const StatDescriptor& d : desc_) {
    uint64_t sum = 0;
    for (uint16_t k = 0; k < d.size; ++k) {
      uint64_t v;
      std::memcpy(&v, data.data() + d.offset + k * sizeof(uint64_t), sizeof v);
      sum += v;
    }
    snap[d.name] = {sum, d.cumulative()};
  }
  return snap;
}

std::map<std::string, double> stats_delta(const StatsSnapshot& before, const StatsSnapshot& after) {
  std::map<std::string, double> out;
  for (const auto& [name, a] : after) {
    auto it = before.find(name);
    if (it == before.end()) continue;
    out[name] = a.cumulative ? static_cast<double>(a.value) - static_cast<double>(it->second.value)
                             : static_cast<double>(a.value);
  }
  return out;
}

void accumulate_stats(std::map<std::string, double>& into, const std::map<std::string, double>& delta) {
  for (const auto& [name, v] : delta) into[name] += v;
}

}  // namespace gpc::kvm
