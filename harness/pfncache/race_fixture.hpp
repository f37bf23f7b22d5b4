// A VM, a synthetic guest region, one cache and a checker: the stage of the race
// scenarios (race_scenarios.cpp) and of the unit tests.
#pragma once

#include <optional>

#include "pfncache/backing_table.hpp"
#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/notifier_state.hpp"
#include "pfncache/sync_point.hpp"
#include "pfncache/test_resolver.hpp"

namespace gpc::pfncache::fixture {

// Synthetic addresses: TestResolver never dereferences uhva.
constexpr uintptr_t kBase = 0x7f0000000000;
constexpr size_t kPages = 8;
inline uintptr_t hva(size_t page) { return kBase + page * kPageSize; }

struct Fixture {
  explicit Fixture(Policy p = {})
      : vm(p), table(-1, kBase, kPages), resolver(table), gpc(vm, resolver), checker(vm, &table) {
    vm.add_memslot(kBase, kBase + kPages * kPageSize);  // the guest memory
  }

  // A bracketed page move: the page gets a fresh memfd offset.
  void swap(size_t page) {
    vm.invalidate_range_start(hva(page), hva(page) + kPageSize);
    table.set(page, next_offset);
    next_offset += kPageSize;
    vm.invalidate_range_end(hva(page), hva(page) + kPageSize);
  }
  // What a vCPU does: read-lock, check, write through khva. nullopt if check() failed.
  std::optional<Access> user_write(uint64_t value = 42) {
    auto g = gpc.read_lock();
    if (!g || !gpc.check(8)) return std::nullopt;
    return checker.write_u64(gpc, 0, value);
  }

  NotifierState vm;
  BackingTable table;
  TestResolver resolver;
  Gpc gpc;
  ContractChecker checker;
  uint64_t next_offset = 1000 * kPageSize;
};

inline Policy policy(WaitKind w = WaitKind::kBusy, Hook h = Hook::kStart,
                     Filter f = Filter::kGlobal, ReaderCheck c = ReaderCheck::kRwlock,
                     Bug b = Bug::kNone) {
  Policy p;
  p.wait = w;
  p.hook = h;
  p.filter = f;
  p.check = c;
  p.bug = b;
  return p;
}

}  // namespace gpc::pfncache::fixture
