// Runs the Python half of report/compare (results/report/*.py) under Debian's
// /usr/bin/python3, which sees python3-matplotlib/scipy/numpy (a python3 earlier on PATH
// may not). Returns the script's exit code; the scripts exit 2 naming a missing package.
#pragma once

#include <string>
#include <vector>

namespace gpc::matrix {

int run_python_tool(const std::string& script, const std::vector<std::string>& args);

}  // namespace gpc::matrix
