#include "results/output_file.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/errors.hpp"

namespace gpc {
namespace {
namespace fs = std::filesystem;

// Every path these tests create lives in a private temporary directory.
class OutputFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gpc_output_file.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  int entries() { return static_cast<int>(std::distance(fs::directory_iterator(dir_), {})); }
  std::string refusal(const fs::path& p) {
    try {
      check_output_path(p, "--json");
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(OutputFile, WritesAndReplacesARegularFileLeavingNoTemporary) {
  const auto p = dir_ / "r.json";
  check_output_path(p, "--json");
  write_output_file(p, "first\n");
  write_output_file(p, "second\n");
  EXPECT_EQ(read(p), "second\n");
  EXPECT_EQ(entries(), 1);
}

TEST_F(OutputFile, RefusesPathsThatCannotTakeAResult) {
  EXPECT_NE(refusal("").find("empty file name"), std::string::npos);
  EXPECT_NE(refusal(dir_).find("is a directory"), std::string::npos);
  EXPECT_NE(refusal(dir_ / "missing" / "r.json").find("does not exist"), std::string::npos);
  EXPECT_NE(refusal("/dev/null").find("/dev, /proc or /sys"), std::string::npos);
  EXPECT_NE(refusal("/proc/self/status").find("/dev, /proc or /sys"), std::string::npos);
  EXPECT_NE(refusal("/proc/self/fd/1").find("/dev, /proc or /sys"), std::string::npos);  // a link out of /proc
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  EXPECT_NE(refusal(dir_ / "fifo").find("a FIFO"), std::string::npos);
  fs::create_symlink(dir_ / "fifo", dir_ / "to_fifo");
  EXPECT_NE(refusal(dir_ / "to_fifo").find("a FIFO"), std::string::npos);
  fs::create_symlink(dir_ / "loop", dir_ / "loop");
  EXPECT_NE(refusal(dir_ / "loop").find("does not resolve"), std::string::npos);
  std::ofstream(dir_ / "file") << "x";
  EXPECT_NE(refusal(dir_ / "file" / "r.json").find("not a directory"), std::string::npos);
  fs::create_symlink("/dev/null", dir_ / "to_null");
  EXPECT_NE(refusal(dir_ / "to_null").find("/dev, /proc or /sys"), std::string::npos);
}

TEST_F(OutputFile, RefusesADeviceNodeOfItsOwn) {
  // Our own node (the same numbers as /dev/full) in our own directory: never /dev itself.
  if (::mknod((dir_ / "full").c_str(), S_IFCHR | 0600, makedev(1, 7)) != 0)
    GTEST_SKIP() << "cannot mknod here (not root?)";
  EXPECT_NE(refusal(dir_ / "full").find("a character device"), std::string::npos);
  EXPECT_THROW(write_output_file(dir_ / "full", "x"), UnavailableError);
  struct stat st {};
  ASSERT_EQ(::lstat((dir_ / "full").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the device node was replaced";
  EXPECT_EQ(entries(), 1) << "a temporary file was left behind";
}

TEST_F(OutputFile, RechecksJustBeforeTheRename) {
  // A FIFO that appears after the pre-run check is still never replaced.
  const auto p = dir_ / "r.json";
  check_output_path(p, "--json");
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  EXPECT_THROW(write_output_file(p, "x"), UnavailableError);
  struct stat st {};
  ASSERT_EQ(::lstat(p.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(entries(), 1);
}

TEST_F(OutputFile, FollowsASymlinkAndKeepsTheLink) {
  std::ofstream(dir_ / "target.json") << "old";
  fs::create_symlink("target.json", dir_ / "link.json");
  write_output_file(dir_ / "link.json", "new");
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.json"));
  EXPECT_EQ(read(dir_ / "target.json"), "new");
  EXPECT_EQ(entries(), 2);
}

TEST_F(OutputFile, AFailedWriteRemovesItsTemporaryFile) {
  // A full disk, injected: RLIMIT_FSIZE in a child makes write() fail with EFBIG, as
  // ENOSPC would, without filling any real filesystem.
  const auto p = dir_ / "r.json";
  std::ofstream(p) << "previous";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_output_file(p, std::string(1 << 20, 'x'));
    } catch (const UnavailableError& e) {
      _exit(std::string(e.what()).find("free some space") != std::string::npos ? 0 : 3);
    }
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(read(p), "previous") << "the old result must survive a failed write";
  EXPECT_EQ(entries(), 1) << "a truncated temporary file was left behind";
}

}  // namespace
}  // namespace gpc
