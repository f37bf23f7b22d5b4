#include "results/result_file.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/errors.hpp"

namespace gpc {
namespace {

ResultFile sample() {
  ResultFile r;
  r.context["kernel"] = {{"release", "6.18.0"}};
  BenchmarkRecord b;
  b.name = "cache/strategy:block";
  b.iterations = 1000;
  b.real_time_ns = 1234.5;
  b.cpu_time_ns = 200;
  b.repetitions = 3;
  b.repetition_index = 1;
  b.counters["violations"] = 0;
  for (uint64_t v = 100; v < 2000; v += 3) b.histograms["refresh"].record(v);
  add_latency_counters(b, b.histograms["refresh"]);
  r.benchmarks.push_back(b);
  return r;
}

TEST(ResultFile, FollowsGoogleBenchmarkSchema) {
  const auto j = to_json(sample());
  ASSERT_TRUE(j.contains("context"));
  const auto& b = j.at("benchmarks").at(0);
  EXPECT_EQ(b.at("run_type"), "iteration");
  EXPECT_EQ(b.at("time_unit"), "ns");
  EXPECT_EQ(b.at("iterations"), 1000);
  EXPECT_DOUBLE_EQ(b.at("real_time").get<double>(), 1234.5);
  EXPECT_TRUE(b.at("p99_ns").is_number());
  EXPECT_FALSE(b.contains("histograms"));  // histograms stay out of the benchmark entries
  EXPECT_TRUE(j.at("context").contains("gpcbench_histograms"));
}

TEST(ResultFile, RoundTripsThroughDisk) {
  const auto path = std::filesystem::temp_directory_path() / "gpc_result_roundtrip.json";
  write_result_file(path, sample());
  const auto back = read_result_file(path);
  std::filesystem::remove(path);
  ASSERT_EQ(back.benchmarks.size(), 1u);
  const auto& b = back.benchmarks[0];
  EXPECT_EQ(b.name, "cache/strategy:block");
  EXPECT_EQ(b.repetition_index, 1);
  EXPECT_EQ(b.counters.at("p99_ns"), sample().benchmarks[0].counters.at("p99_ns"));
  ASSERT_TRUE(b.histograms.count("refresh"));
  EXPECT_EQ(b.histograms.at("refresh").count(), sample().benchmarks[0].histograms.at("refresh").count());
  EXPECT_EQ(back.context.at("kernel").at("release"), "6.18.0");
  EXPECT_FALSE(back.context.contains("gpcbench_histograms"));
}

TEST(ResultFile, TruncatedFileIsUnusableWithAReason) {
  const auto path = std::filesystem::temp_directory_path() / "gpc_result_truncated.json";
  const std::string full = to_json(sample()).dump(2);
  std::ofstream(path) << full.substr(0, full.size() / 2);
  try {
    read_result_file(path);
    FAIL() << "a truncated file was accepted";
  } catch (const UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(ResultFile, MissingFileAndWrongShapeAreUnusable) {
  EXPECT_THROW(read_result_file("/nonexistent/gpc.json"), UnavailableError);
  EXPECT_THROW(from_json(nlohmann::json::array(), "x"), UnavailableError);
  EXPECT_THROW(from_json({{"context", {}}}, "x"), UnavailableError);
  EXPECT_THROW(from_json({{"benchmarks", {{{"name", "a"}}}}}, "x"), UnavailableError);
}

}  // namespace
}  // namespace gpc
