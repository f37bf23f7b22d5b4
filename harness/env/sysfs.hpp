// Small readers for /proc and /sys text files: the whole file, trimmed, or why not.
#pragma once

#include <optional>
#include <string>

namespace gpc {

struct TextFile {
  std::optional<std::string> text;  // trailing whitespace trimmed
  std::string error;                // "No such file or directory", ... when !text
};

TextFile read_text_file(const std::string& path);

// The selected value of a sysfs choice list such as "always [madvise] never" ("madvise");
// the whole text when nothing is bracketed.
std::string selected_choice(const std::string& choices);

// The kernel's (major, minor) from a release string like "6.18.44-fc-v657".
std::pair<int, int> kernel_major_minor(const std::string& release);

}  // namespace gpc
