#include "calibrate/calibration_run.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/errors.hpp"
#include "kvm/kvm_system.hpp"

namespace gpc::calibrate {
namespace {

CalibrationParams valid() {
  CalibrationParams p;
  p.out_dir = (std::filesystem::temp_directory_path() / "gpc-calibrate-test").string();
  p.run.duration = std::chrono::milliseconds(300);
  p.run.duration_text = "300ms";
  return p;
}

TEST(Calibration, BadFlagsAreUsageErrorsNamingTheFlag) {
  auto expect_usage = [](CalibrationParams p, const char* flag) {
    try {
      check_calibration(p);
      ADD_FAILURE() << "no error for a bad " << flag;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
    }
  };
  CalibrationParams p = valid();
  p.invalidator = "mremap,zap";
  expect_usage(p, "--invalidator");
  p = valid();
  p.repetitions = 0;
  expect_usage(p, "--repetitions");
  p = valid();
  p.out_dir.clear();
  expect_usage(p, "--out");
  p = valid();
  p.rate = "fast";
  expect_usage(p, "--rate");
}

TEST(Calibration, WithoutKvmItRefusesWithTheReason) {
  ::setenv("GPC_KVM_DEVICE", "/dev/nonexistent-kvm", 1);
  try {
    check_calibration(valid());
    ADD_FAILURE() << "calibrate ran without /dev/kvm";
  } catch (const UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("needs /dev/kvm"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nonexistent-kvm"), std::string::npos) << e.what();
  }
  ::unsetenv("GPC_KVM_DEVICE");
}

TEST(Calibration, TheStampNamesTheStreamInUnitsBothSidesShare) {
  CalibrationParams p = valid();
  p.invalidator = "zap";
  p.rate = "2k";
  p.hold = "50us";
  const auto j = calibration_stamp(p, "model", 3);
  EXPECT_EQ(j["side"], "model");
  EXPECT_EQ(j["repetition"], 3);
  EXPECT_EQ(j["stream"]["invalidator"], "zap");
  EXPECT_EQ(j["stream"]["target"], "cache");
  EXPECT_EQ(j["stream"]["rate_hz"], 2000.0);
  EXPECT_EQ(j["stream"]["hold_ns"], 50000);
}

// Where /dev/kvm works: one short repetition writes a result per side.
TEST(Calibration, OneRepetitionWritesBothSides) {
  const kvm::KvmAvailability kvm = kvm::probe_kvm();
  if (!kvm.usable) GTEST_SKIP() << "needs /dev/kvm: " << kvm.reason;
  CalibrationParams p = valid();
  p.repetitions = 1;
  p.rate = "1000";
  std::filesystem::remove_all(p.out_dir);
  EXPECT_EQ(run_calibration(p, [](const std::string&) {}), 0);
  const auto runs = std::filesystem::path(p.out_dir) / "runs";
  EXPECT_TRUE(std::filesystem::exists(runs / "kernel-rep0.json"));
  EXPECT_TRUE(std::filesystem::exists(runs / "model-rep0.json"));
  // The kernel side carries the kernel's own account (or why not): run pvclock owns it.
  std::ifstream in(runs / "kernel-rep0.json");
  const auto kernel = nlohmann::json::parse(in);
  EXPECT_TRUE(kernel["context"]["run"].contains("kernel_evidence")) << kernel["context"]["run"].dump();
  std::filesystem::remove_all(p.out_dir);
}

}  // namespace
}  // namespace gpc::calibrate
