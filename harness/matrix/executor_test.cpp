#include "matrix/executor.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "matrix/merge.hpp"
#include "results/result_file.hpp"

namespace gpc::matrix {
namespace {
namespace fs = std::filesystem;

const char* kMatrix = R"(
[matrix]
name = "t"
repetitions = 3
duration = "10ms"
warmup = "10ms"
grace = "5s"
seed = 3
[[scenario]]
name = "cache"
[scenario.axes]
strategy = ["busy", "block"]
hook = ["start", "end"]
co-runner = true
[[scenario]]
name = "pvclock"
)";

// `text` with the first occurrence of `from` replaced by `to`.
std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpc-matrix-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_ = dir_ / "invocations.log";
    setenv("GPC_FAKE_LOG", log_.c_str(), 1);
    progress_ = std::fopen("/dev/null", "w");
    reset_stop();
  }
  void TearDown() override {
    for (const char* v : {"GPC_FAKE_LOG", "GPC_FAKE_HANG", "GPC_FAKE_VIOLATION", "GPC_FAKE_UNAVAILABLE", "GPC_FAKE_CRASH"})
      unsetenv(v);
    std::fclose(progress_);
    reset_stop();
    fs::remove_all(dir_);
  }
  MatrixOutcome run(const std::string& toml, const std::string& sub = "out", Shard shard = {}) {
    ExecutorOptions opt;
    opt.out_dir = dir_ / sub;
    opt.runner = GPC_FAKE_RUNNER;
    opt.shard = shard;
    opt.progress = progress_;
    return run_matrix(parse_matrix(toml, "t.toml"), opt);
  }
  std::vector<std::string> invocations() {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
  static nlohmann::json read_json(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
  }

  fs::path dir_, log_;
  std::FILE* progress_ = nullptr;
};

TEST_F(ExecutorTest, RunsEveryCellAndRepetitionWithAWarmUpPerCell) {
  const auto out = run(kMatrix);
  EXPECT_EQ(out.planned, 15);
  EXPECT_EQ(out.ok, 15);
  EXPECT_EQ(out.exit_code(), 0);
  EXPECT_EQ(invocations().size(), 15u + 5u);  // 5 cells: one warm-up each
  const auto cells = expand_cells(parse_matrix(kMatrix, "t.toml"));
  for (const auto& c : cells)
    for (int r = 0; r < 3; ++r) {
      const auto result = read_result_file(result_path(dir_ / "out", c, r));
      ASSERT_EQ(result.benchmarks.size(), 1u);
      EXPECT_EQ(result.benchmarks[0].repetition_index, r);
      EXPECT_EQ(result.benchmarks[0].repetitions, 3);
      EXPECT_EQ(result.context["matrix"]["cell"], c.id);
      EXPECT_EQ(result.context["matrix"]["seed"], 3 + r);
      EXPECT_TRUE(result.benchmarks[0].histograms.count("latency"));
    }
  const auto manifest = read_json(dir_ / "out/matrix.json");
  EXPECT_EQ(manifest["order"].size(), 15u);
  EXPECT_EQ(manifest["cells"].size(), 5u);
  EXPECT_TRUE(fs::exists(dir_ / "out/environment.json"));
  EXPECT_TRUE(fs::exists(dir_ / "out/matrix.toml"));
  EXPECT_EQ(read_json(dir_ / "out/status.json")["ok"], 15);
  // The executed order is the recorded one.
  for (size_t i = 0; i < out.runs.size(); ++i) {
    EXPECT_EQ(out.runs[i].cell, manifest["order"][i]["cell"]);
    EXPECT_EQ(out.runs[i].repetition, manifest["order"][i]["repetition"]);
  }
}

TEST_F(ExecutorTest, ResumeSkipsFinishedRuns) {
  run(kMatrix);
  const auto cells = expand_cells(parse_matrix(kMatrix, "t.toml"));
  fs::remove(result_path(dir_ / "out", cells[2], 1));
  std::ofstream(result_path(dir_ / "out", cells[4], 0)) << "{\"context\": {}, \"benchm";  // truncated
  fs::remove(log_);
  const auto out = run(kMatrix);
  EXPECT_EQ(out.done_before, 13);
  EXPECT_EQ(out.ok, 2);
  const auto inv = invocations();
  ASSERT_EQ(inv.size(), 4u) << "two warm-ups and two runs expected";
  EXPECT_NO_THROW(read_result_file(result_path(dir_ / "out", cells[4], 0)));
}

TEST_F(ExecutorTest, RefusesToMixTwoMatricesInOneDirectory) {
  run(kMatrix);
  std::string other = kMatrix;
  other = with(other, "seed = 3", "seed = 4");
  EXPECT_THROW(run(other), UsageError);
}

TEST_F(ExecutorTest, TimedOutRunIsKilledAndRecordedAsFailed) {
  setenv("GPC_FAKE_HANG", "strategy:block/hook:end", 1);
  std::string toml = kMatrix;
  toml = with(toml, "grace = \"5s\"", "grace = \"300ms\"");
  toml = with(toml, "repetitions = 3", "repetitions = 1");
  toml = with(toml, "warmup = \"10ms\"", "warmup = \"0s\"");
  const auto start = std::chrono::steady_clock::now();
  const auto out = run(toml);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(out.failed, 1);
  EXPECT_EQ(out.ok, 4);
  EXPECT_EQ(out.exit_code(), 1);
  const auto cells = expand_cells(parse_matrix(toml, "t.toml"));
  const Cell* hung = nullptr;
  for (const auto& c : cells)
    if (c.id.find("strategy:block/hook:end") != std::string::npos) hung = &c;
  ASSERT_NE(hung, nullptr);
  EXPECT_FALSE(fs::exists(result_path(dir_ / "out", *hung, 0)));
  const auto failure = read_json(failure_path(dir_ / "out", *hung, 0));
  EXPECT_EQ(failure["status"], "timeout");
  EXPECT_NE(failure["detail"].get<std::string>().find("hanging"), std::string::npos) << failure.dump();
}

TEST_F(ExecutorTest, ViolationKeepsTheResultAndFailsTheMatrix) {
  setenv("GPC_FAKE_VIOLATION", "strategy:busy/hook:start", 1);
  const auto out = run(kMatrix);
  EXPECT_EQ(out.violations, 3);
  EXPECT_EQ(out.exit_code(), 1);
  const auto cells = expand_cells(parse_matrix(kMatrix, "t.toml"));
  EXPECT_EQ(read_result_file(result_path(dir_ / "out", cells[0], 0)).benchmarks[0].counters.at("violations"), 1);
}

// Issue 15 item 4: the exit code reflects everything the directory holds.
TEST_F(ExecutorTest, ARerunOfAFinishedMatrixWithAViolationStillFails) {
  setenv("GPC_FAKE_VIOLATION", "strategy:busy/hook:start", 1);
  run(kMatrix);
  unsetenv("GPC_FAKE_VIOLATION");
  const auto again = run(kMatrix);
  EXPECT_EQ(again.done_before, 15);
  EXPECT_EQ(again.violations_before, 3);
  EXPECT_EQ(again.exit_code(), 1);
  EXPECT_EQ(read_json(dir_ / "out/status.json")["violations_before"], 3);
}

// Issue 15 item 16: a shard with no cell is refused before anything is created.
TEST_F(ExecutorTest, AShardWithoutCellsSaysSo) {
  try {
    run(kMatrix, "empty-shard", {6, 7, "GPCBENCH_SHARD_INDEX=6"});
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("has no cells: the matrix has 5 cell(s)"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "empty-shard"));
}

// Issue 17: matrix.json says where the shard came from.
TEST_F(ExecutorTest, TheManifestRecordsTheShardSource) {
  run(kMatrix, "slurm", {1, 2, "SLURM_ARRAY_TASK_ID=2 (min 1, step 1, count 2)"});
  const auto m = read_json(dir_ / "slurm/matrix.json");
  EXPECT_EQ(m["shard"]["index"], 1);
  EXPECT_EQ(m["shard"]["source"], "SLURM_ARRAY_TASK_ID=2 (min 1, step 1, count 2)");
}

TEST_F(ExecutorTest, UnavailableCellIsSkippedAfterItsWarmUp) {
  setenv("GPC_FAKE_UNAVAILABLE", "pvclock", 1);
  const auto out = run(kMatrix);
  EXPECT_EQ(out.unavailable, 3);
  EXPECT_EQ(out.ok, 12);
  EXPECT_EQ(out.exit_code(), 0);
  int pvclock_invocations = 0;
  for (const auto& l : invocations()) pvclock_invocations += l.rfind("pvclock", 0) == 0;
  EXPECT_EQ(pvclock_invocations, 1);
}

TEST_F(ExecutorTest, CrashIsAFailureWithTheExitStatus) {
  setenv("GPC_FAKE_CRASH", "pvclock", 1);
  const auto out = run(kMatrix);
  EXPECT_EQ(out.failed, 3);
  EXPECT_EQ(out.exit_code(), 1);
}

TEST_F(ExecutorTest, StopRequestKillsTheRunningCellAndKeepsFinishedOnes) {
  setenv("GPC_FAKE_HANG", "pvclock", 1);
  std::string toml = kMatrix;
  toml = with(toml, "grace = \"5s\"", "grace = \"60s\"");
  toml = with(toml, "warmup = \"10ms\"", "warmup = \"0s\"");
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto out = run(toml);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_TRUE(out.interrupted);
  EXPECT_EQ(out.exit_code(), 130);  // request_stop() without a signal counts as Ctrl-C
  ASSERT_FALSE(out.runs.empty());
  EXPECT_EQ(out.runs.back().status, RunStatus::kInterrupted);
  // Everything before the interruption is on disk and a rerun resumes after it.
  int stored = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "out/runs")) stored += e.path().extension() == ".json";
  EXPECT_EQ(stored, out.ok);
}

TEST_F(ExecutorTest, ShardsRunDisjointCellsAndMergeIntoTheWholeMatrix) {
  const auto a = run(kMatrix, "shard0", {0, 2});
  const auto b = run(kMatrix, "shard1", {1, 2});
  EXPECT_EQ(a.planned + b.planned, 15);
  const auto summary = merge_shards({dir_ / "shard0", dir_ / "shard1"}, dir_ / "merged");
  EXPECT_EQ(summary.shards, 2);
  EXPECT_EQ(summary.results, 15);
  const auto m = read_json(dir_ / "merged/matrix.json");
  EXPECT_EQ(m["order"].size(), 15u);
  EXPECT_TRUE(fs::exists(dir_ / "merged/environment.json"));
  // A shard of another matrix is refused.
  std::string other = kMatrix;
  other = with(other, "seed = 3", "seed = 5");
  run(other, "foreign");
  EXPECT_THROW(merge_shards({dir_ / "shard0", dir_ / "foreign"}, dir_ / "merged2"), UsageError);
}

TEST(DurationArg, UsesTheLargestExactUnit) {
  EXPECT_EQ(duration_arg(std::chrono::seconds(2)), "2s");
  EXPECT_EQ(duration_arg(std::chrono::milliseconds(1500)), "1500ms");
  EXPECT_EQ(duration_arg(std::chrono::microseconds(20)), "20us");
  EXPECT_EQ(duration_arg(std::chrono::nanoseconds(7)), "7ns");
}

}  // namespace
}  // namespace gpc::matrix
