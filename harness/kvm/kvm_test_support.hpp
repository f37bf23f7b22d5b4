// Test helpers: skip with the reason where /dev/kvm is unusable; small guest runners.
#pragma once

#include <gtest/gtest.h>

#include "kvm/kvm_system.hpp"

// Skips the current test (with the reason and fix) when KVM cannot be opened.
#define GPC_REQUIRE_KVM()                                              \
  do {                                                                 \
    const ::gpc::kvm::KvmAvailability gpc_kvm_ = ::gpc::kvm::probe_kvm(); \
    if (!gpc_kvm_.usable) GTEST_SKIP() << gpc_kvm_.reason;             \
  } while (0)
