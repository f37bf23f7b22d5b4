#include "env/sysfs.hpp"

#include <gtest/gtest.h>

namespace gpc {
namespace {

TEST(Sysfs, SelectedChoice) {
  EXPECT_EQ(selected_choice("always [madvise] never"), "madvise");
  EXPECT_EQ(selected_choice("always within_size advise [never] deny force"), "never");
  EXPECT_EQ(selected_choice("plain"), "plain");
}

TEST(Sysfs, KernelMajorMinor) {
  EXPECT_EQ(kernel_major_minor("6.18.44-fc-v657"), (std::pair<int, int>{6, 18}));
  EXPECT_EQ(kernel_major_minor("5.4.0"), (std::pair<int, int>{5, 4}));
}

TEST(Sysfs, ReadTextFileTrimsOrSaysWhy) {
  auto ok = read_text_file("/proc/sys/kernel/ostype");
  ASSERT_TRUE(ok.text.has_value()) << ok.error;
  EXPECT_EQ(*ok.text, "Linux");
  auto missing = read_text_file("/nonexistent/gpcbench");
  EXPECT_FALSE(missing.text.has_value());
  EXPECT_EQ(missing.error, "No such file or directory");
}

}  // namespace
}  // namespace gpc
