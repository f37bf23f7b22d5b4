#include "matrix/cells.hpp"

#include <cstdio>
#include <map>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace {

bool excluded(const std::vector<const AxisValue*>& chosen, const ScenarioBlock& block) {
  for (const auto& ex : block.excludes) {
    bool all_match = true;
    for (const auto& [name, values] : ex.match) {
      bool match = false;
      for (size_t i = 0; i < block.axes.size(); ++i)
        if (block.axes[i].name == name)
          for (const auto& v : values) match |= *chosen[i] == v;
      all_match &= match;
    }
    if (all_match) return true;
  }
  return false;
}

std::string slug_of(const std::string& id) {
  std::string s;
  for (char c : id) {
    if (c == '/') s += '.';
    else if (c == ':') s += '-';
    else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ',') s += c;
    else s += '_';
  }
  return s;
}

Cell make_cell(const ScenarioBlock& block, const std::vector<const AxisValue*>& chosen) {
  Cell cell;
  cell.scenario = block.scenario;
  cell.id = block.scenario;
  cell.args.push_back(block.scenario);
  for (size_t i = 0; i < block.axes.size(); ++i) {
    const AxisValue& v = *chosen[i];
    cell.id += "/" + block.axes[i].name + ":" + v.label();
    if (v.kind == AxisValue::Kind::kFlagOff) continue;
    cell.args.push_back("--" + block.axes[i].name);
    if (v.kind == AxisValue::Kind::kValue) cell.args.push_back(v.text);
  }
  cell.slug = slug_of(cell.id);
  return cell;
}

// The cross product of the axes, before exclusions; refused above kMaxCells so a huge
// declaration fails in microseconds instead of exhausting memory or time.
void check_size(const MatrixSpec& spec) {
  size_t total = 0;
  for (const auto& block : spec.scenarios) {
    size_t product = 1;
    for (const auto& axis : block.axes) {
      product *= axis.values.size();  // each factor <= kMaxCells + 1 after the check below
      if (product > kMaxCells) break;
    }
    total += product;
    if (total > kMaxCells)
      throw UsageError(block.where.str() + ": the matrix crosses into more than " + std::to_string(kMaxCells) +
                       " cells (the limit); shorten an axis list, or split the matrix into several files");
  }
}

}  // namespace

std::vector<Cell> expand_cells(const MatrixSpec& spec) {
  check_size(spec);
  std::vector<Cell> cells;
  std::map<std::string, SourcePos> declared_at;
  for (const auto& block : spec.scenarios) {
    // Odometer over the axes: the last axis varies fastest.
    std::vector<size_t> idx(block.axes.size(), 0);
    size_t produced = 0;
    while (true) {
      std::vector<const AxisValue*> chosen;
      for (size_t i = 0; i < block.axes.size(); ++i) chosen.push_back(&block.axes[i].values[idx[i]]);
      if (!excluded(chosen, block)) {
        Cell cell = make_cell(block, chosen);
        auto [it, fresh] = declared_at.emplace(cell.slug, block.where);
        if (!fresh)
          throw UsageError(block.where.str() + ": cell " + cell.id + " is already declared by the block at " +
                           it->second.str() + "; remove the duplicate or narrow one block's axes");
        cells.push_back(std::move(cell));
        ++produced;
      }
      size_t k = block.axes.size();
      while (k > 0 && ++idx[k - 1] == block.axes[k - 1].values.size()) idx[--k] = 0;
      if (k == 0) break;
    }
    if (produced == 0)
      throw UsageError(block.where.str() + ": the exclusions remove every cell of this " + block.scenario +
                       " block; loosen an exclude entry");
  }
  return cells;
}

std::string matrix_fingerprint(const MatrixSpec& spec, const std::vector<Cell>& cells) {
  // FNV-1a over a canonical text: stable across builds and machines (std::hash is not).
  std::string canon = "duration=" + std::to_string(spec.duration.count()) +
                      ";warmup=" + std::to_string(spec.warmup.count()) +
                      ";seed=" + std::to_string(spec.seed);
  for (const auto& c : cells) canon += ";" + c.id;
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : canon) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace gpc::matrix
