#include "scenarios/leak_check.hpp"

#include <dirent.h>

#include <fstream>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace gpc::scenarios {

ResourceCount count_resources() {
  ResourceCount c;
  DIR* d = opendir("/proc/self/fd");
  if (!d) throw SystemError("opendir(/proc/self/fd)", errno);
  while (const dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++c.fds;
  closedir(d);
  --c.fds;  // the directory stream's own fd
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find("/memfd:") != std::string::npos) ++c.memfd_mappings;
  return c;
}

std::string LeakReport::describe() const {
  return fmt::format("fds {}->{}, memfd mappings {}->{}", before.fds, after.fds, before.memfd_mappings,
                     after.memfd_mappings);
}

}  // namespace gpc::scenarios
