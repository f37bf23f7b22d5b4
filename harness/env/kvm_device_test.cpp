#include "env/kvm_device.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/errors.hpp"

namespace gpc {
namespace {
namespace fs = std::filesystem;

std::string refusal(const std::string& device) {
  try {
    open_kvm_device(device);
  } catch (const UnavailableError& e) {
    return e.what();
  }
  return "";
}

// Sets GPC_KVM_DEVICE for one test and restores it.
class WithDeviceVariable {
 public:
  explicit WithDeviceVariable(const std::string& value) {
    if (const char* v = std::getenv(kKvmDeviceVariable)) saved_ = v, had_ = true;
    ::setenv(kKvmDeviceVariable, value.c_str(), 1);
  }
  ~WithDeviceVariable() { had_ ? ::setenv(kKvmDeviceVariable, saved_.c_str(), 1) : ::unsetenv(kKvmDeviceVariable); }

 private:
  std::string saved_;
  bool had_ = false;
};

class KvmDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gpc_kvm_device.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(KvmDeviceTest, AMissingDeviceSaysSoAndNamesTheFix) {
  EXPECT_NE(refusal((dir_ / "kvm").string()).find("does not exist: load the KVM module"), std::string::npos);
}

TEST_F(KvmDeviceTest, ARegularFileOrFifoIsNotKvmAndIsNeverOpened) {
  std::ofstream(dir_ / "file") << "not kvm";
  EXPECT_NE(refusal((dir_ / "file").string()).find("a regular file, not the KVM character device"),
            std::string::npos);
  // open() of a FIFO with no writer would block: refused from stat alone.
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  EXPECT_NE(refusal((dir_ / "fifo").string()).find("a FIFO"), std::string::npos);
}

TEST_F(KvmDeviceTest, ACharacterDeviceThatIsNotKvmNamesTheVariable) {
  // /dev/null only opened and asked one ioctl, never written.
  WithDeviceVariable env("/dev/null");
  EXPECT_EQ(configured_kvm_device(), "/dev/null");
  const std::string why = refusal("/dev/null");
  EXPECT_NE(why.find("GPC_KVM_DEVICE=/dev/null"), std::string::npos) << why;
  EXPECT_NE(why.find("is not KVM"), std::string::npos) << why;
  EXPECT_NE(why.find("unset GPC_KVM_DEVICE"), std::string::npos) << why;
}

TEST_F(KvmDeviceTest, TheRealDeviceAnswersApi12) {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/kvm here";
  EXPECT_EQ(open_kvm_device("/dev/kvm").api_version, 12);
}

}  // namespace
}  // namespace gpc
