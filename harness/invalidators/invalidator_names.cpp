// Names and parsing of invalidator types and targets (the `--invalidator` / `--target` flags).
#include <string>

#include "common/errors.hpp"
#include "invalidators/invalidator.hpp"

namespace gpc {

const std::vector<InvalidatorType>& all_invalidator_types() {
  static const std::vector<InvalidatorType> all = {
      InvalidatorType::mremap,      InvalidatorType::mmap_fixed,   InvalidatorType::zap,
      InvalidatorType::punch_hole,  InvalidatorType::thp_split,    InvalidatorType::thp_collapse,
      InvalidatorType::migrate,     InvalidatorType::compact,      InvalidatorType::mprotect};
  return all;
}

std::string_view invalidator_name(InvalidatorType type) {
  switch (type) {
    case InvalidatorType::mremap: return "mremap";
    case InvalidatorType::mmap_fixed: return "mmap-fixed";
    case InvalidatorType::zap: return "zap";
    case InvalidatorType::punch_hole: return "punch-hole";
    case InvalidatorType::thp_split: return "thp-split";
    case InvalidatorType::thp_collapse: return "thp-collapse";
    case InvalidatorType::migrate: return "migrate";
    case InvalidatorType::compact: return "compact";
    case InvalidatorType::mprotect: return "mprotect";
  }
  return "?";
}

std::string_view target_name(Target target) {
  switch (target) {
    case Target::cache: return "cache";
    case Target::neighbour: return "neighbour";
    case Target::unrelated: return "unrelated";
  }
  return "?";
}

static std::string valid_types() {
  std::string out;
  for (auto t : all_invalidator_types()) out += (out.empty() ? "" : ", ") + std::string(invalidator_name(t));
  return out;
}

std::vector<InvalidatorType> parse_invalidator_list(std::string_view list) {
  std::vector<InvalidatorType> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = list.find(',', pos);
    const std::string_view item = list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos);
    bool found = false;
    for (auto t : all_invalidator_types())
      if (item == invalidator_name(t)) {
        out.push_back(t);
        found = true;
      }
    if (!found)
      throw UsageError("--invalidator: unknown type '" + std::string(item) +
                       "' (a comma-separated list of: " + valid_types() + ")");
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Target parse_target(std::string_view text) {
  for (auto t : {Target::cache, Target::neighbour, Target::unrelated})
    if (text == target_name(t)) return t;
  throw UsageError("--target: unknown target '" + std::string(text) + "' (valid: cache, neighbour, unrelated)");
}

}  // namespace gpc
