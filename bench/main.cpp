// gpcbench-micro's main: Google Benchmark's own, plus a short default min time. A
// per-benchmark MinTime() would override --benchmark_min_time in Google Benchmark 1.7,
// so the short default goes in as a flag the user's own flag replaces.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>


int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  bool has_min_time = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--benchmark_min_time", 20) == 0) has_min_time = true;
  static char default_min_time[] = "--benchmark_min_time=0.05";
  if (!has_min_time) args.insert(args.begin() + 1, default_min_time);
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
