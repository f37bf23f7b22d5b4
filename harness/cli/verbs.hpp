// Each verb of the gpcbench command line lives in its own file and registers itself on
// the top-level app. A verb's callback stores its exit code in `exit_code`; errors are
// thrown (common/errors.hpp) and mapped to exit codes in main.cpp.
#pragma once

#include <CLI/CLI.hpp>

namespace gpc::cli {

void add_info_verb(CLI::App& app, int& exit_code);
void add_run_verb(CLI::App& app, int& exit_code);
void add_matrix_verb(CLI::App& app, int& exit_code);
void add_report_verb(CLI::App& app, int& exit_code);
void add_compare_verb(CLI::App& app, int& exit_code);
void add_stress_verb(CLI::App& app, int& exit_code);
void add_calibrate_verb(CLI::App& app, int& exit_code);

}  // namespace gpc::cli
