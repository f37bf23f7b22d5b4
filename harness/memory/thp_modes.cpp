#include "memory/thp_modes.hpp"

#include <fstream>

namespace gpc {

std::string active_thp_mode(const std::string& line) {
  const auto open = line.find('[');
  const auto close = line.find(']', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return line.substr(open + 1, close - open - 1);
}

static std::string read_mode(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  return active_thp_mode(line);
}

ThpModes read_thp_modes() {
  return {read_mode("/sys/kernel/mm/transparent_hugepage/enabled"),
          read_mode("/sys/kernel/mm/transparent_hugepage/shmem_enabled")};
}

}  // namespace gpc
