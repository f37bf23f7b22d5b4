#include "scenarios/xen_scenario.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "kvm/kvm_test_support.hpp"
#include "kvm/xen_hvm.hpp"

namespace gpc::scenarios {
namespace {

// Where KVM has Xen emulation this runs the real scenario; where it has not (this
// project's nested machines) it checks that the scenario refuses with the reason.
TEST(XenScenario, RunsWhereKvmHasXenElseRefusesWithTheReason) {
  GPC_REQUIRE_KVM();
  kvm::Kvm kvm;
  const kvm::XenSupport xen = kvm::xen_support(kvm);
  XenParams p;
  p.run.duration_text = "200ms";
  finalize_run_options(p.run);
  if (!xen.usable) {
    try {
      run_xen(p);
      FAIL() << "run_xen succeeded without usable Xen emulation";
    } catch (const UnavailableError& e) {
      EXPECT_NE(std::string(e.what()).find("KVM_CAP_XEN_HVM"), std::string::npos) << e.what();
    }
    GTEST_SKIP() << xen.reason;
  }
  const XenResult r = run_xen(p);
  EXPECT_GT(r.sent, 0u);
  EXPECT_GT(r.received, 0u);
  EXPECT_EQ(r.violations, 0u);
}

}  // namespace
}  // namespace gpc::scenarios
