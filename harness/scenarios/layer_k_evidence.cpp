#include "scenarios/layer_k_evidence.hpp"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/duration.hpp"
#include "trace/trace_features.hpp"

namespace gpc::scenarios {
namespace {

double counter(const std::map<std::string, double>& c, const std::string& name) {
  const auto it = c.find(name);
  return it == c.end() ? 0.0 : it->second;
}

// "1234 invalidations (1234 on the cache page), 1.00 per op, 100% of ops reached KVM".
std::string unmap_text(const std::map<std::string, double>& c) {
  std::string s = fmt::format("{:.0f} invalidations", counter(c, "ktrace_unmap_hva_range"));
  if (c.count("ktrace_unmap_hva_range_cache"))
    s += fmt::format(" ({:.0f} on the cache page)", counter(c, "ktrace_unmap_hva_range_cache"));
  if (c.count("ktrace_invalidations_per_op"))
    s += fmt::format(", {:.2f} per invalidator op", counter(c, "ktrace_invalidations_per_op"));
  if (c.count("ktrace_ops_reaching_kvm"))
    s += fmt::format(", {:.0f}% of ops reached KVM", 100 * counter(c, "ktrace_ops_reaching_kvm"));
  if (c.count("ktrace_notifier_delay_p50_ns"))
    s += fmt::format(", op -> notifier p50 {} p99 {}", format_ns(counter(c, "ktrace_notifier_delay_p50_ns")),
                     format_ns(counter(c, "ktrace_notifier_delay_p99_ns")));
  return s;
}

// "exits 2000 (msr 1990, hlt 10)": the reasons, most frequent first.
std::string exits_text(const std::map<std::string, double>& c) {
  std::vector<std::pair<double, std::string>> reasons;
  constexpr std::string_view prefix = "ktrace_exit_";
  for (const auto& [name, n] : c)
    if (name.rfind(prefix, 0) == 0) reasons.emplace_back(n, name.substr(prefix.size()));
  std::sort(reasons.rbegin(), reasons.rend());
  std::string s = fmt::format("exits {:.0f}", counter(c, "ktrace_exits"));
  for (size_t i = 0; i < reasons.size() && i < 4; ++i)
    s += fmt::format("{}{} {:.0f}", i == 0 ? " (" : ", ", reasons[i].second, reasons[i].first);
  return reasons.empty() ? s : s + ")";
}

// kvm_exit is emitted by the vendor module's exit handler (vmx_handle_exit,
// svm_handle_exit in arch/x86/kvm/{vmx,svm}), not by common code: a module that does not
// call it (seen 2026-12-01 with kvm_pvm on 6.18) leaves the tracepoint silent while KVM's
// own `exits` stat counts. Zero would then be a false count: drop the exit counters and
// say why, in the facility's place.
void drop_silent_exit_tracepoint(BenchmarkRecord& record, nlohmann::json& ctx) {
  auto& c = record.counters;
  const auto traced = c.find("ktrace_exits");
  const auto counted = c.find("kvm_exits");
  if (traced == c.end() || traced->second > 0 || counted == c.end() || counted->second <= 0) return;
  const std::string module = trace::kvm_vendor_module();
  const std::string why = fmt::format(
      "enabled, but it never fired while KVM's own stats counted {:.0f} exits (kvm_exits): the vendor module{} "
      "does not emit it",
      counted->second, module.empty() ? "" : " here (" + module + ")");
  for (auto it = c.begin(); it != c.end();)
    it = it->first.rfind("ktrace_exit", 0) == 0 ? c.erase(it) : std::next(it);
  for (auto& f : ctx["facilities"])
    if (f.value("name", "") == "tracepoint:kvm:kvm_exit") {
      f["available"] = false;
      f["reason"] = why;
    }
}

}  // namespace

trace::EvidenceOptions layer_k_evidence_options(uint64_t cache_hva) {
  trace::EvidenceOptions o;
  o.cache_hva = cache_hva;
  if (const char* env = std::getenv("GPC_KERNEL_EVIDENCE"); env && std::string_view(env) == "off")
    o.off_reason = "off: GPC_KERNEL_EVIDENCE=off in the environment";
  return o;
}

LayerKEvidence::LayerKEvidence(uint64_t cache_hva, size_t invalidators)
    : evidence_(layer_k_evidence_options(cache_hva)),
      op_log_(invalidators > 0 && evidence_.tracing() ? std::make_unique<trace::HostOpLog>(invalidators) : nullptr) {}

void LayerKEvidence::add_to(BenchmarkRecord& record, nlohmann::json& run, uint64_t guest_updates) {
  uint64_t ops = 0;
  if (const auto it = record.counters.find("inval_ops"); it != record.counters.end())
    ops = static_cast<uint64_t>(it->second);
  // A full log drops later ops whole (their events then match nothing), so the per-op
  // figure over the logged ops stays right.
  if (op_log_) evidence_.set_host_ops(op_log_->ops());
  evidence_.add_counters(record, run, {guest_updates, ops});
  drop_silent_exit_tracepoint(record, run["kernel_evidence"]);
  if (op_log_ && op_log_->dropped() > 0) run["kernel_evidence"]["host_ops_not_logged"] = op_log_->dropped();
}

void print_kernel_evidence(const std::map<std::string, double>& c, const nlohmann::json& run) {
  const auto ev = run.find("kernel_evidence");
  if (ev == run.end()) return;
  if (!c.count("ktrace_exits") && !c.count("ktrace_unmap_hva_range") && !c.count("ktrace_refreshes")) {
    std::string why;
    for (const auto& f : ev->value("facilities", nlohmann::json::array()))
      if (!f.value("available", false)) why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", f.value("name", ""),
                                                         f.value("reason", ""));
    fmt::print("kernel trace: none ({})\n", why.empty() ? "no facility" : why);
    return;
  }
  std::vector<std::string> parts;
  if (c.count("ktrace_unmap_hva_range")) parts.push_back(unmap_text(c));
  if (c.count("ktrace_pvclock_writes_per_update"))
    parts.push_back(fmt::format("pvclock writes {:.0f} ({:.2f} per guest update)", counter(c, "ktrace_pvclock_writes"),
                                counter(c, "ktrace_pvclock_writes_per_update")));
  if (c.count("ktrace_exits")) parts.push_back(exits_text(c));
  else parts.push_back("exits not traced (context.run.kernel_evidence says why)");
  if (counter(c, "ktrace_events_lost") > 0)
    parts.push_back(fmt::format("{:.0f} events LOST (counts are low)", counter(c, "ktrace_events_lost")));
  const std::string line = fmt::format("kernel trace: {}", fmt::join(parts, "; "));
  fmt::print("{}\n", line);
  if (c.count("ktrace_refreshes")) {
    fmt::print("kernel refresh (kprobe): {:.0f} calls, p50 {} p99 {}\n", counter(c, "ktrace_refreshes"),
               format_ns(counter(c, "ktrace_refresh_p50_ns")), format_ns(counter(c, "ktrace_refresh_p99_ns")));
    return;
  }
  for (const auto& f : ev->value("facilities", nlohmann::json::array()))
    if (f.value("name", "").rfind("kprobe:", 0) == 0 && !f.value("available", false))
      fmt::print("kernel refresh ({}): not probed: {}\n", f.value("name", ""), f.value("reason", ""));
}

}  // namespace gpc::scenarios
