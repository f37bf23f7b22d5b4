// The CONTRACTS.md invalidator counters: totals over every invalidator, then per type.
#include "invalidators/runner.hpp"
#include "results/result_file.hpp"

namespace gpc {

std::string counter_prefix(InvalidatorType type) {
  std::string name(invalidator_name(type));
  for (char& c : name)
    if (c == '-') c = '_';
  return "inval_" + name + "_";
}

namespace {

struct Totals {
  uint64_t ops = 0, pfn = 0, thp = 0, unverified = 0, lost = 0, failed = 0;
  double ops_per_s = 0;
  Histogram bracket;
  void add(const InvalidatorStats& s) {
    ops += s.ops;
    ops_per_s += s.ops_per_s();
    pfn += s.pfn_changed;
    thp += s.thp_changed;
    unverified += s.unverified;
    lost += s.content_lost;
    failed += s.op_failed;
    bracket.merge(s.bracket_ns);
  }
  void write(BenchmarkRecord& r, const std::string& p) const {
    r.counters[p + "ops"] = static_cast<double>(ops);
    r.counters[p + "ops_per_s"] = ops_per_s;
    r.counters[p + "p50_ns"] = static_cast<double>(bracket.quantile(0.5));
    r.counters[p + "p99_ns"] = static_cast<double>(bracket.quantile(0.99));
    r.counters[p + "pfn_changed"] = static_cast<double>(pfn);
    r.counters[p + "thp_changed"] = static_cast<double>(thp);
    r.counters[p + "unverified"] = static_cast<double>(unverified);
    r.counters[p + "content_lost"] = static_cast<double>(lost);
    r.counters[p + "op_failed"] = static_cast<double>(failed);
  }
};

}  // namespace

void InvalidatorRunner::add_counters(BenchmarkRecord& record) const {
  Totals all;
  std::map<InvalidatorType, Totals> per_type;
  for (const auto& s : stats_) {
    all.add(s);
    per_type[s.type].add(s);
  }
  all.write(record, "inval_");
  for (const auto& [type, totals] : per_type) totals.write(record, counter_prefix(type));
  record.histograms["inval"] = all.bracket;
}

}  // namespace gpc
