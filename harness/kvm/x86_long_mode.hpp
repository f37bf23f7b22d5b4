// Puts an x86-64 vCPU straight into 64-bit long mode from the host (no guest boot code):
// identity page tables with 2 MB pages and a flat GDT in guest memory, then KVM_SET_SREGS.
// Kept apart from the run loop, which knows nothing about x86 paging.
#pragma once

#include <cstdint>

#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"

namespace gpc::kvm {

// Register values this machine (nested kvm_pvm) was verified to accept; see
// /work/shared/MACHINE-NOTES.md.
inline constexpr uint64_t kLongModeCr0 = 0x80000031;  // PG | NE | ET | PE
inline constexpr uint64_t kLongModeCr4 = 0x220;       // OSFXSR | PAE
inline constexpr uint64_t kLongModeEfer = 0xd00;      // NXE | LMA | LME
inline constexpr uint16_t kCodeSelector = 0x08;
inline constexpr uint16_t kDataSelector = 0x10;
inline constexpr uint16_t kTssSelector = 0x18;

struct LongModeLayout {
  uint64_t pml4_gpa;        // PML4, PDPT and PD take the three pages from here
  uint64_t gdt_gpa;
  uint64_t identity_bytes;  // mapped 1:1 from gpa 0, multiple of 2 MB, at most 512 GB
};

// Writes the page tables and GDT into guest memory (must be inside memslots).
void write_long_mode_tables(const Vm& vm, const LongModeLayout& layout);

// Long-mode sregs for `vcpu` (on top of its current sregs, so KVM's defaults for the
// rest stay), then RIP/RSP/RDI and RFLAGS=0x2. Gives the vCPU the host-supported CPUID.
void enter_long_mode(Vcpu& vcpu, const LongModeLayout& layout, uint64_t rip, uint64_t rsp,
                     uint64_t rdi);

}  // namespace gpc::kvm
