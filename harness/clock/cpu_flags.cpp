#include "clock/cpu_flags.hpp"

#include <fstream>
#include <sstream>

namespace gpc {

std::set<std::string> parse_cpu_flags(const std::string& cpuinfo) {
  std::istringstream in(cpuinfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream words(line.substr(colon + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    return flags;
  }
  return {};
}

std::set<std::string> read_cpu_flags() {
  std::ifstream f("/proc/cpuinfo");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_cpu_flags(ss.str());
}

}  // namespace gpc
