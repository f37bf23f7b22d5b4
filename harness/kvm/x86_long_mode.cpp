#include "kvm/x86_long_mode.hpp"

#include <cstring>
#include <stdexcept>

namespace gpc::kvm {
namespace {

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kHuge = 1ull << 7;  // PS in a PD entry: a 2 MB page
constexpr uint64_t kTwoMb = 2ull << 20;
constexpr uint64_t kOneGb = 1ull << 30;

// A GDT descriptor from its fields (Intel SDM vol. 3, 3.4.5).
uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (uint64_t(limit & 0xffff)) | (uint64_t(base & 0xffffff) << 16) |
         (uint64_t(access) << 40) | (uint64_t((limit >> 16) & 0xf) << 48) |
         (uint64_t(flags & 0xf) << 52) | (uint64_t(base >> 24) << 56);
}

kvm_segment segment(uint16_t selector, uint8_t type, bool code) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.db = code ? 0 : 1;  // L=1 requires D=0 for 64-bit code
  s.s = 1;
  s.l = code ? 1 : 0;
  s.g = 1;
  return s;
}

}  // namespace

void write_long_mode_tables(const Vm& vm, const LongModeLayout& layout) {
  if (layout.identity_bytes == 0 || layout.identity_bytes % kTwoMb != 0 ||
      layout.identity_bytes > 512 * kOneGb)
    throw std::invalid_argument("identity map size must be a non-zero multiple of 2 MB, <= 512 GB");
  const uint64_t pdpt_gpa = layout.pml4_gpa + 0x1000;
  const uint64_t pd_gpa = layout.pml4_gpa + 0x2000;
  const uint64_t gbs = (layout.identity_bytes + kOneGb - 1) / kOneGb;
  if (gbs > 1) throw std::invalid_argument("identity map beyond 1 GB needs more PD pages");

  auto* pml4 = static_cast<uint64_t*>(vm.gpa_to_hva(layout.pml4_gpa, 0x1000));
  auto* pdpt = static_cast<uint64_t*>(vm.gpa_to_hva(pdpt_gpa, 0x1000));
  auto* pd = static_cast<uint64_t*>(vm.gpa_to_hva(pd_gpa, 0x1000));
  std::memset(pml4, 0, 0x1000);
  std::memset(pdpt, 0, 0x1000);
  std::memset(pd, 0, 0x1000);
  pml4[0] = pdpt_gpa | kPresent | kWritable;
  pdpt[0] = pd_gpa | kPresent | kWritable;
  for (uint64_t i = 0; i < layout.identity_bytes / kTwoMb; ++i)
    pd[i] = (i * kTwoMb) | kPresent | kWritable | kHuge;

  // null, 64-bit code (access 0x9b, flags L|G), data (0x93, D|G), 64-bit TSS (0x8b busy).
  auto* gdt = static_cast<uint64_t*>(vm.gpa_to_hva(layout.gdt_gpa, 5 * sizeof(uint64_t)));
  gdt[0] = 0;
  gdt[kCodeSelector / 8] = gdt_entry(0, 0xfffff, 0x9b, 0xa);
  gdt[kDataSelector / 8] = gdt_entry(0, 0xfffff, 0x93, 0xc);
  gdt[kTssSelector / 8] = gdt_entry(0, 0x67, 0x8b, 0x0);
  gdt[kTssSelector / 8 + 1] = 0;  // upper half of the 16-byte TSS descriptor
}

void enter_long_mode(Vcpu& vcpu, const LongModeLayout& layout, uint64_t rip, uint64_t rsp,
                     uint64_t rdi) {
  vcpu.set_cpuid(vcpu.vm().kvm().supported_cpuid());

  kvm_sregs s = vcpu.get_sregs();
  s.cr0 = kLongModeCr0;
  s.cr3 = layout.pml4_gpa;
  s.cr4 = kLongModeCr4;
  s.efer = kLongModeEfer;
  s.gdt.base = layout.gdt_gpa;
  s.gdt.limit = 5 * sizeof(uint64_t) - 1;
  s.idt.base = 0;
  s.idt.limit = 0;  // no IDT: any guest exception ends in a triple fault (KVM_EXIT_SHUTDOWN)
  s.cs = segment(kCodeSelector, 0xb, true);
  s.ds = s.es = s.fs = s.gs = s.ss = segment(kDataSelector, 0x3, false);
  s.tr = {};
  s.tr.selector = kTssSelector;
  s.tr.limit = 0x67;
  s.tr.type = 0xb;  // busy 64-bit TSS: VM entry insists on a usable TR
  s.tr.present = 1;
  vcpu.set_sregs(s);

  kvm_regs r{};
  r.rip = rip;
  r.rsp = rsp;
  r.rdi = rdi;
  r.rflags = 0x2;  // bit 1 is reserved-as-one; interrupts off
  vcpu.set_regs(r);
}

}  // namespace gpc::kvm
