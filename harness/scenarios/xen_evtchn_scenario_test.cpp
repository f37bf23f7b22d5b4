#include "scenarios/xen_evtchn_scenario.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/errors.hpp"
#include "kvm/kvm_test_support.hpp"
#include "kvm/xen_hvm.hpp"

namespace gpc::scenarios {
namespace {

// Parses `args` into `gpcbench run ...` with the xen-evtchn scenario registered; the
// scenario's callback runs inside parse.
void parse_run(const std::string& args) {
  CLI::App app;
  auto* run = app.add_subcommand("run");
  int exit_code = 0;
  add_xen_evtchn_scenario(*run, exit_code);
  app.parse("run " + args, false);
}

std::string usage_error_of(const std::string& args) {
  try {
    parse_run(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(XenEvtchnScenario, BadFlagsAreUsageErrorsNamingTheValidValues) {
  const std::string target = usage_error_of("xen-evtchn --target nowhere --invalidator mremap");
  for (const char* valid : {"cache", "neighbour", "unrelated"}) EXPECT_NE(target.find(valid), std::string::npos) << target;
  EXPECT_NE(usage_error_of("xen-evtchn --rate=-5 --invalidator mremap").find("--rate"), std::string::npos);
  EXPECT_NE(usage_error_of("xen --invalidator sledgehammer").find("mremap"), std::string::npos)
      << "the old name `xen` is an alias and parses the same flags";
  EXPECT_NE(usage_error_of("xen-evtchn --backing tmpfs").find("memfd"), std::string::npos);
  EXPECT_NE(usage_error_of("xen-evtchn --send-interval soon").find("--send-interval"), std::string::npos);
}

TEST(XenEvtchnScenario, ParameterChecksComeBeforeAnyKvmOrXenCheck) {
  XenEvtchnParams p;
  p.rate_hz = -1;
  EXPECT_THROW(run_xen_evtchn(p), UsageError);
  p.rate_hz = 0;
  p.range_size = kXenEvtchnMaxRange + 4096;
  try {
    run_xen_evtchn(p);
    FAIL() << "a range reaching vCPU 0's vcpu_info was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--range-size must be between 1 and 32768"), std::string::npos) << e.what();
  }
  p.range_size = 4096;
  p.vcpus = 0;
  EXPECT_THROW(run_xen_evtchn(p), UsageError);
}

TEST(XenEvtchnScenario, RecordNameFollowsPvclock) {
  XenEvtchnParams p;
  p.vcpus = 2;
  EXPECT_EQ(xen_evtchn_record_name(p), "xen-evtchn/vcpus:2");
  p.rate_hz = 500;  // a rate without invalidators means nothing and is not named
  EXPECT_EQ(xen_evtchn_record_name(p), "xen-evtchn/vcpus:2");
  p.invalidators = parse_invalidator_list("mremap,zap");
  p.target = Target::unrelated;
  EXPECT_EQ(xen_evtchn_record_name(p), "xen-evtchn/vcpus:2/invalidator:mremap,zap/target:unrelated/rate:500");
  p.rate_hz = 0;
  EXPECT_EQ(xen_evtchn_record_name(p), "xen-evtchn/vcpus:2/invalidator:mremap,zap/target:unrelated");
}

TEST(XenEvtchnScenario, ProbeRefusesWhatWouldBreakTheSharedInfoPage) {
  const ProbeResult mprotect = probe_xen_evtchn_invalidator(InvalidatorType::mprotect, Target::cache);
  EXPECT_FALSE(mprotect.runs_here);
  EXPECT_NE(mprotect.reason.find("read-only"), std::string::npos) << mprotect.reason;
  EXPECT_TRUE(probe_xen_evtchn_invalidator(InvalidatorType::mprotect, Target::neighbour).runs_here);
  // KVM never rewrites shared_info: zap on anonymous memory would discard pending bits.
  const ProbeResult zap_anon = probe_xen_evtchn_invalidator(InvalidatorType::zap, Target::cache, BackingKind::anonymous);
  EXPECT_FALSE(zap_anon.runs_here);
  EXPECT_NE(zap_anon.reason.find("memfd"), std::string::npos) << zap_anon.reason;
  EXPECT_TRUE(probe_xen_evtchn_invalidator(InvalidatorType::zap, Target::cache, BackingKind::memfd).runs_here);
}

// Where KVM has Xen emulation this runs the real scenario, alone and under mremap of the
// shared_info page; where it has not (this project's nested machines) it checks that the
// scenario refuses with the reason.
TEST(XenEvtchnScenario, RunsWhereKvmHasXenElseRefusesWithTheReason) {
  GPC_REQUIRE_KVM();
  kvm::Kvm kvm;
  const kvm::XenSupport xen = kvm::xen_support(kvm);
  XenEvtchnParams p;
  p.vcpus = 1;
  p.run.duration_text = "300ms";
  finalize_run_options(p.run);
  if (!xen.usable) {
    try {
      run_xen_evtchn(p);
      FAIL() << "run_xen_evtchn succeeded without usable Xen emulation";
    } catch (const UnavailableError& e) {
      EXPECT_NE(std::string(e.what()).find("KVM_CAP_XEN_HVM"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("run xen-evtchn"), std::string::npos) << e.what();
    }
    GTEST_SKIP() << xen.reason;
  }
  const XenEvtchnResult r = run_xen_evtchn(p);
  EXPECT_TRUE(r.judged);
  EXPECT_GT(r.total.sent, 0u);
  EXPECT_EQ(r.total.delivered, r.total.sent) << "no invalidator: every send arrives exactly once";
  EXPECT_EQ(r.violations(), 0u);
  EXPECT_EQ(r.send_latency.count(), r.total.sent);
  EXPECT_EQ(r.record.name, "xen-evtchn/vcpus:1");
  EXPECT_TRUE(r.record.histograms.count("send_latency"));
  EXPECT_GT(r.record.counters.at("p50_ns"), 0);
  EXPECT_EQ(r.run["scenario"], "xen-evtchn");

  p.invalidators = parse_invalidator_list("mremap");
  p.rate_hz = 2000;
  const XenEvtchnResult m = run_xen_evtchn(p);
  ASSERT_EQ(m.invalidators.size(), 1u);
  EXPECT_GT(m.invalidators[0].ops, 0u);
  EXPECT_GT(m.total.sent, 0u);
  EXPECT_EQ(m.violations(), 0u) << "lost " << m.total.lost() << " (at risk " << m.total.sends_at_risk << "), dup "
                                << m.total.duplicated() << " (at risk " << m.total.deliveries_at_risk << ")";
}

}  // namespace
}  // namespace gpc::scenarios
