#include "env/sysfs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gpc {

TextFile read_text_file(const std::string& path) {
  TextFile out;
  std::ifstream f(path);
  if (!f) {
    out.error = std::strerror(errno);
    return out;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) {
    out.error = std::strerror(errno);
    return out;
  }
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  out.text = s;
  return out;
}

std::string selected_choice(const std::string& choices) {
  const auto open = choices.find('[');
  const auto close = choices.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return choices;
  return choices.substr(open + 1, close - open - 1);
}

std::pair<int, int> kernel_major_minor(const std::string& release) {
  int major = 0, minor = 0;
  std::sscanf(release.c_str(), "%d.%d", &major, &minor);
  return {major, minor};
}

}  // namespace gpc
