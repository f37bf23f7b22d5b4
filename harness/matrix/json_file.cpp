#include "matrix/json_file.hpp"

#include <fstream>

#include "common/errors.hpp"

namespace gpc::matrix {

void write_json_file(const std::filesystem::path& path, const nlohmann::json& j) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw UnavailableError("cannot write " + tmp.string() + ": check that the directory is writable");
    out << j.dump(2) << "\n";
    if (!out) throw UnavailableError("writing " + tmp.string() + " failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace gpc::matrix
