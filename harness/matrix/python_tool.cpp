#include "matrix/python_tool.hpp"

#include <chrono>
#include <filesystem>

#include "common/errors.hpp"
#include "matrix/child_process.hpp"
#include "matrix/install_paths.hpp"

namespace gpc::matrix {

int run_python_tool(const std::string& script, const std::vector<std::string>& args) {
  const char* python = "/usr/bin/python3";
  if (!std::filesystem::exists(python))
    throw UnavailableError("/usr/bin/python3 is missing: install the Debian package python3 (ci/install-deps)");
  std::vector<std::string> argv = {python, (report_code_dir() / script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Same process group: Ctrl-C reaches the script directly. An hour bounds a wedged plot.
  const ChildResult r = run_child(argv, {}, std::chrono::hours(1), false);
  if (r.end == ChildResult::End::kExited) return r.code;
  throw UnavailableError(script + " " + r.describe());
}

}  // namespace gpc::matrix
