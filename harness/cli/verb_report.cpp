// `gpcbench report DIR`: Markdown and self-contained HTML from a matrix result directory
// (results/report/gpc_report.py under Debian's /usr/bin/python3).
#include <filesystem>

#include "cli/verbs.hpp"
#include "common/errors.hpp"
#include "matrix/python_tool.hpp"

namespace gpc::cli {

void add_report_verb(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "report",
      "Write DIR/report.md and DIR/report.html from a matrix result directory: environment, latency\n"
      "CDFs, latency vs CPU burned, co-runner progress, verdicts with medians, confidence intervals and\n"
      "Mann-Whitney U significance, run-to-run spread, violations. See docs/reading-a-report.md.");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir, "Result directory of `gpcbench matrix --out DIR`")->required();
  cmd->callback([dir, &exit_code] {
    if (!std::filesystem::is_directory(*dir))
      throw UsageError(*dir + " is not a directory; pass the --out directory of `gpcbench matrix`");
    exit_code = matrix::run_python_tool("gpc_report.py", {*dir});
  });
}

}  // namespace gpc::cli
