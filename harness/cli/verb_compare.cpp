// `gpcbench compare BASE NEW`: regression verdict per cell and metric, a Mann-Whitney U test
// and a relative threshold both required (results/report/gpc_compare.py, docs/methodology.md).
#include "cli/verbs.hpp"
#include "common/errors.hpp"
#include "matrix/python_tool.hpp"

namespace gpc::cli {
namespace {

struct CompareArgs {
  std::string base, next, junit;
  double threshold = 10.0;
  double alpha = 0.01;
};

}  // namespace

void add_compare_verb(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare two result directories (or files). A metric regresses when a two-sided Mann-Whitney U\n"
      "test over the repetitions gives p < 0.01 AND the median moved more than --threshold percent in\n"
      "the worse direction. Any violation in NEW fails. Exit 0 = no regression, 1 = regression or\n"
      "violation, 2 = unusable input (missing, truncated or malformed file, no common cells, too few\n"
      "repetitions, a --junit path that cannot be written), 130/143 = stopped by SIGINT/SIGTERM.");
  auto a = std::make_shared<CompareArgs>();
  cmd->add_option("BASE", a->base, "Baseline result directory or file")->required();
  cmd->add_option("NEW", a->next, "New result directory or file")->required();
  cmd->add_option("--threshold", a->threshold, "Relative change of the median, in percent, beyond which a "
                                               "significant change is a regression")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--alpha", a->alpha, "Significance level of the Mann-Whitney U test")
      ->capture_default_str()
      ->check(CLI::Range(1e-9, 0.5));
  auto* junit = cmd->add_option("--junit", a->junit, "Also write the verdict as JUnit XML to this file (a "
                                                     "regular file; checked before the work)");
  cmd->callback([a, junit, &exit_code] {
    std::vector<std::string> args = {a->base, a->next, "--threshold", std::to_string(a->threshold), "--alpha",
                                     std::to_string(a->alpha)};
    if (junit->count() > 0) {  // also --junit '': the script refuses an empty path with exit 2
      args.push_back("--junit");
      args.push_back(a->junit);
    }
    exit_code = matrix::run_python_tool("gpc_compare.py", args);
  });
}

}  // namespace gpc::cli
