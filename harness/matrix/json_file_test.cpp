#include "matrix/json_file.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace {
namespace fs = std::filesystem;

class JsonFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "gpc-json-file-XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
};

TEST_F(JsonFile, WritesAndReplacesARegularFile) {
  write_json_file(dir_ / "a.json", {{"x", 1}});
  write_json_file(dir_ / "a.json", {{"x", 2}});
  std::ifstream in(dir_ / "a.json");
  EXPECT_EQ(nlohmann::json::parse(in)["x"], 2);
  EXPECT_EQ(entries(), std::vector<std::string>{"a.json"});  // no temporary left
}

TEST_F(JsonFile, RefusesToReplaceAFifoADirectoryOrASymlink) {
  ASSERT_EQ(mkfifo((dir_ / "fifo.json").c_str(), 0600), 0);  // our own node, in our own directory
  fs::create_directory(dir_ / "dir.json");
  std::ofstream(dir_ / "target") << "keep";
  fs::create_symlink(dir_ / "target", dir_ / "link.json");
  for (const char* name : {"fifo.json", "dir.json", "link.json"}) {
    try {
      write_json_file(dir_ / name, {{"x", 1}});
      ADD_FAILURE() << name << " was replaced";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(dir_ / "fifo.json")));
  EXPECT_TRUE(fs::is_directory(dir_ / "dir.json"));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir_ / "link.json")));
  std::stringstream ss;
  ss << std::ifstream(dir_ / "target").rdbuf();
  EXPECT_EQ(ss.str(), "keep");
  EXPECT_EQ(entries().size(), 4u);  // no temporary left
}

// A full disk, simulated by RLIMIT_FSIZE in a child (the limit must not bind the test runner):
// the write fails, UnavailableError is thrown, and no partial or temporary file remains.
TEST_F(JsonFile, AFailedWriteLeavesNothingBehind) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing us
    struct rlimit lim {100, 100};
    setrlimit(RLIMIT_FSIZE, &lim);
    try {
      write_json_file(dir_ / "big.json", {{"payload", std::string(10000, 'x')}});
    } catch (const UnavailableError&) {
      _exit(0);
    } catch (...) {
      _exit(2);
    }
    _exit(1);  // no error: the limit did not bind
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the write succeeded; 2: wrong exception type";
  EXPECT_TRUE(entries().empty()) << entries().front();
}

}  // namespace
}  // namespace gpc::matrix
