// KernelEvidence::add_counters: the session's findings as ktrace_* counters of the run's
// record (docs/kernel-evidence.md names each) and its facilities in context.run.
#include <algorithm>

#include "results/result_file.hpp"
#include "trace/kernel_evidence.hpp"
#include "trace/probe_reader.hpp"

namespace gpc::trace {
namespace {

double per(double a, double b) { return b > 0 ? a / b : 0.0; }

bool has(const std::vector<std::string>& on, const char* event) {
  return std::find(on.begin(), on.end(), std::string("kvm:") + event) != on.end();
}

}  // namespace

void KernelEvidence::add_counters(BenchmarkRecord& record, nlohmann::json& run_context,
                                  const EvidenceInputs& inputs) const {
  nlohmann::json ctx = {{"process", options_.process}, {"clock", "CLOCK_MONOTONIC (trace_clock=mono)"}};
  nlohmann::json list = nlohmann::json::array();
  for (const Facility& f : facilities_)
    list.push_back({{"name", f.name}, {"available", f.available}, {"reason", f.reason}});
  ctx["facilities"] = list;
  if (reader_) add_tracepoint_counters(record, ctx, inputs);
  if (probe_) add_probe_counters(record);
  run_context["kernel_evidence"] = ctx;
}

void KernelEvidence::add_tracepoint_counters(BenchmarkRecord& record, nlohmann::json& ctx,
                                             const EvidenceInputs& in) const {
  auto& c = record.counters;
  c["ktrace_events_lost"] = static_cast<double>(trace_lost_);
  if (has(events_on_, "kvm_unmap_hva_range")) {
    c["ktrace_unmap_hva_range"] = static_cast<double>(unmap_total_);
    if (options_.cache_hva != 0)
      c["ktrace_unmap_hva_range_cache"] =
          static_cast<double>(count_overlapping(unmaps_, options_.cache_hva, options_.cache_len));
    if (!host_ops_.empty()) {
      const OpMatch m = match_ops(unmaps_, host_ops_);
      c["ktrace_invalidations_per_op"] = per(static_cast<double>(m.events_in_ops), static_cast<double>(m.ops));
      c["ktrace_ops_reaching_kvm"] = per(static_cast<double>(m.ops_reaching_kvm), static_cast<double>(m.ops));
      add_latency_counters(record, m.delay_ns, "ktrace_notifier_delay_");
      record.histograms["ktrace_notifier_delay"] = m.delay_ns;
      ctx["per_op"] = "host op stamps: events on the op's own thread within its [begin, end]";
    } else if (in.host_ops > 0) {
      c["ktrace_invalidations_per_op"] = per(static_cast<double>(unmap_total_), static_cast<double>(in.host_ops));
      ctx["per_op"] = "no op stamps: every invalidation of the process / inval_ops (no notifier delay)";
    }
    if (unmaps_dropped_ > 0) ctx["unmaps_not_matched"] = unmaps_dropped_;
  }
  if (has(events_on_, "kvm_pvclock_update")) {
    c["ktrace_pvclock_writes"] = static_cast<double>(pvclock_writes_);
    if (in.guest_updates > 0)
      c["ktrace_pvclock_writes_per_update"] =
          per(static_cast<double>(pvclock_writes_), static_cast<double>(in.guest_updates));
  }
  if (has(events_on_, "kvm_exit")) {
    uint64_t total = 0;
    for (const auto& [reason, n] : exits_) {
      c[exit_counter_name(reason)] = static_cast<double>(n);
      total += n;
    }
    c["ktrace_exits"] = static_cast<double>(total);
  }
}

void KernelEvidence::add_probe_counters(BenchmarkRecord& record) const {
  const CallStats s = probe_->result();
  auto& c = record.counters;
  c["ktrace_refreshes"] = static_cast<double>(s.calls);
  c["ktrace_refresh_p50_ns"] = static_cast<double>(s.latency_ns.quantile(0.5));
  c["ktrace_refresh_p99_ns"] = static_cast<double>(s.latency_ns.quantile(0.99));
  c["ktrace_refresh_unmatched"] = static_cast<double>(s.unmatched_entries + s.unmatched_returns);
  c["ktrace_probe_lost"] = static_cast<double>(probe_->lost());
  record.histograms["ktrace_refresh"] = s.latency_ns;
}

}  // namespace gpc::trace
