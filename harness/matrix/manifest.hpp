// Reading a matrix directory's matrix.json (docs/matrix-format.md) with every field the
// matrix code uses checked for its type, so a hand-edited or foreign file is a usage error
// naming the field, never a raw json type_error.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace gpc::matrix {

// Throws UsageError when DIR/matrix.json is missing, not a regular file, not JSON, or a field
// has the wrong type (fingerprint: string; repetitions: integer; order, cells: arrays;
// shard: {index, total} integers).
nlohmann::json read_manifest(const std::filesystem::path& dir);

}  // namespace gpc::matrix
