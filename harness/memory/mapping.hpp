// RAII owners for a virtual mapping and a file descriptor, so every region releases what
// it holds on every path (including constructor failures part-way through).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/unique_fd.hpp"  // UniqueFd, shared with the KVM layer and the probes

namespace gpc {

class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t len) : addr_(addr), len_(len) {}
  Mapping(Mapping&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      len_ = std::exchange(o.len_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  void reset() {
    if (addr_) munmap(addr_, len_);
    addr_ = nullptr;
    len_ = 0;
  }
  // Gives up ownership (e.g. after mremap moved the pages elsewhere).
  void release() {
    addr_ = nullptr;
    len_ = 0;
  }
  char* data() const { return static_cast<char*>(addr_); }
  uintptr_t addr() const { return reinterpret_cast<uintptr_t>(addr_); }
  size_t size() const { return len_; }
  explicit operator bool() const { return addr_ != nullptr; }

 private:
  void* addr_ = nullptr;
  size_t len_ = 0;
};

constexpr size_t kPageSize = 4096;
constexpr size_t kHugePageSize = 2u << 20;

constexpr uintptr_t align_down(uintptr_t v, size_t a) { return v & ~(uintptr_t(a) - 1); }
constexpr uintptr_t align_up(uintptr_t v, size_t a) { return (v + a - 1) & ~(uintptr_t(a) - 1); }

// Reserves `len` bytes of address space aligned to `align` (PROT_NONE), so a region can be
// mapped over it with MAP_FIXED: THP needs 2 MB-aligned virtual addresses.
Mapping reserve_aligned(size_t len, size_t align);

}  // namespace gpc
