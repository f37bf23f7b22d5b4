#include "scenarios/cache_record.hpp"

#include <algorithm>
#include <utility>

#include "scenarios/kvm_metrics.hpp"
#include "scenarios/placement_plan.hpp"
#include "scenarios/scenario_record.hpp"

namespace gpc::scenarios {
namespace {

using Counters = std::map<std::string, double>;

double num(uint64_t v) { return static_cast<double>(v); }

// What the waits cost: CPU, perf counts, and how each strategy waited (pfncache/stats.hpp).
void add_wait_counters(Counters& c, const WriterTotals& w, const CacheModelTotals& m) {
  const double ops = num(m.caches.refreshes);
  c["retries_per_op"] = per(num(m.caches.retries), ops);
  c["hva_to_pfn_per_op"] = per(num(m.caches.hva_to_pfn), ops);
  if (w.perf_ok) {
    c["context_switches_per_op"] = per(w.context_switches, ops);
    c["thread_task_clock_ns_per_op"] = per(w.task_clock_ns, ops);
  }
  if (w.cycles_ok) c["thread_cycles_per_op"] = per(w.cycles, ops);
  c["uses"] = num(w.iterations);
  c["waits"] = num(w.waits);
  c["refresh_timeouts"] = num(w.timeouts);  // kept for old readers; the same count as:
  c["starved_refreshes"] = num(w.timeouts);
  c["refresh_failures"] = num(w.failures);
  c["writer_page_behind"] = num(w.page_behind);
  c["spin_ns"] = num(m.caches.spin_ns);
  c["yields"] = num(m.caches.yields);
  c["sleeps"] = num(m.caches.sleeps);
  c["wakeups"] = num(m.caches.wakeups);
  c["invalid_wakeups"] = num(m.caches.invalid_wakeups);
  c["slice_timeouts"] = num(m.caches.slice_timeouts);
  c["polls_preempted"] = num(m.caches.polls_preempted);
  c["polls_successful"] = num(m.caches.polls_successful);
  c["polls_invalid"] = num(m.caches.polls_invalid);
  c["halt_poll_ns"] = num(m.halt_poll_max);
  c["wait_ns_per_op"] = per(num(m.caches.wait_ns), ops);
}

// The invariants' detectors: the contract checker, the caches' audits, the notifier, leaks.
void add_model_counters(Counters& c, const CacheResult& out, const WriterTotals& w, const CacheModelTotals& m) {
  c["unsafe_violations"] = num(out.unsafe_violations);
  c["checker_accesses"] = num(m.checker.accesses);
  c["checker_use_after_start"] = num(m.checker.use_after_start);
  c["checker_stale"] = num(m.checker.stale);
  c["checker_null_khva"] = num(m.checker.null_khva + w.null_skips);
  c["checker_unverifiable"] = num(m.checker.unverifiable);
  c["audit_violations"] = num(m.audit_violations);
  c["leaked_fds"] = static_cast<double>(out.leaks.leaked_fds());
  c["leaked_mappings"] = static_cast<double>(out.leaks.leaked_mappings()) + num(m.live_after);
  c["notifier_invalidations"] = num(m.notifier.starts);
  c["caches_invalidated"] = num(m.notifier.caches_invalidated);
  c["wake_syscalls"] = num(m.notifier.wake_syscalls);
}

// What reached the guest pages, and with the reader guest its vCPU's costs and KVM stats.
void add_reader_counters(BenchmarkRecord& rec, const CacheResult& out, double seconds) {
  Counters& c = rec.counters;
  const ReaderCounts& r = out.reader;
  c["reader_events"] = num(r.events);
  c["reader_lost"] = num(r.lost);
  c["reader_repeated"] = num(r.repeated);
  c["reader_out_of_order"] = num(r.out_of_order);
  c["reader_torn"] = num(r.torn);
  c["reader_backwards"] = num(r.backwards);
  c["reader_records"] = num(r.records);
  c["reader_reacks"] = num(r.reacks);
  c["reader_judged"] = out.reader_judged ? 1 : 0;
  c["reader_sweeps"] = num(r.sweeps);
  c["reader_events_per_s"] = per(num(r.events), seconds);
  c["reader_guest"] = out.reader_kind == "guest" ? 1 : 0;
  if (out.reader_kind != "guest") return;
  const kvm::VcpuRunResult& v = out.reader_vcpu;
  c["reader_hung"] = out.reader_hung ? 1 : 0;
  c["reader_idle_exits"] = num(v.idle_exits);
  c["reader_vcpu_cpu_share"] = per(v.cpu_ns, v.elapsed_ns);  // of one PU, guest + KVM + VMM
  add_kvm_stat_counters(rec, v.stats, {});                   // the reader vCPU's stat deltas
}

// The collided/uncollided split (collision_split.hpp). Latency percentiles only where the
// side has waits: a 0 would read as an instant refresh.
void add_collision_counters(Counters& c, const CollisionSplit& s) {
  c["collided_refreshes"] = num(s.collided.count());
  c["uncollided_refreshes"] = num(s.uncollided.count());
  if (s.collided.count() > 0) {
    c["collided_p50_ns"] = num(s.collided.quantile(0.50));
    c["collided_p99_ns"] = num(s.collided.quantile(0.99));
    c["cpu_ns_per_collision"] = s.cpu_ns_per_collision();
  }
  if (s.uncollided.count() > 0) {
    c["uncollided_p50_ns"] = num(s.uncollided.quantile(0.50));
    c["uncollided_p99_ns"] = num(s.uncollided.quantile(0.99));
  }
  if (const double p = s.corunner_progress_during_waits(); p >= 0) c["corunner_progress_during_waits"] = p;
}

// The evidence that the placement held (thread_sched.hpp), and the verdict for a named one.
void add_placement_counters(Counters& c, const CacheResult& out, const WriterTotals& w) {
  if (!w.sched_ok) return;
  c["waiter_runqueue_wait_share"] = w.max_runqueue_wait_share;
  c["waiter_nonvoluntary_switches_per_s"] = w.max_nonvoluntary_per_s;
  const CachePlacement kind = parse_cache_placement(out.placement_kind);
  if (kind != CachePlacement::kLegacy) c["placement_held"] = placement_held(kind, w.max_runqueue_wait_share) ? 1 : 0;
}

}  // namespace

WriterTotals sum_writers(const std::vector<WriterResult>& writers) {
  WriterTotals t;
  t.cycles_ok = !writers.empty();
  t.sched_ok = !writers.empty();
  for (const WriterResult& w : writers) {
    t.latency.merge(w.latency);
    t.split.merge(w.split);
    t.sched_ok = t.sched_ok && w.sched.ok;
    t.max_runqueue_wait_share = std::max(t.max_runqueue_wait_share, w.sched.runqueue_wait_share);
    t.max_nonvoluntary_per_s = std::max(t.max_nonvoluntary_per_s, w.sched.nonvoluntary_per_s);
    t.timeouts += w.timeouts;
    t.failures += w.failures;
    t.null_skips += w.null_skips;
    t.waits += w.waits;
    t.page_behind += w.page_behind;
    t.iterations += w.iterations;
    t.seconds = std::max(t.seconds, w.seconds);
    t.wait_cpu_ns += static_cast<double>(w.wait_cpu_ns);
    if (w.task_clock_ns < 0 || w.context_switches < 0) t.perf_ok = false;
    t.task_clock_ns += w.task_clock_ns;
    t.context_switches += w.context_switches;
    if (w.cycles < 0) {
      t.cycles_ok = false;
      t.cycles_reason = w.cycles_reason;
    }
    t.cycles += w.cycles;
  }
  return t;
}

void judge_cache_run(CacheResult& out, const WriterTotals& w, const CacheModelTotals& m, bool unsafe) {
  const uint64_t reader_anomalies = out.reader.anomalies();
  const uint64_t reader_violations = (out.reader_judged && !unsafe) ? reader_anomalies : 0;
  out.unsafe_violations = m.checker.unsafe_violations + ((out.reader_judged && unsafe) ? reader_anomalies : 0);
  // A refresh that hit its bound (w.timeouts) is starved: the known livelock of the global
  // count, a liveness finding counted in starved_refreshes, never a violation (BRIEF §6).
  out.violations = m.checker.violations() + reader_violations + out.leaks.violations() + m.audit_violations +
                   w.failures + m.live_after + m.bad_unmaps + (out.reader_hung ? 1 : 0);
}

BenchmarkRecord cache_record(const CacheParams& params, const CacheResult& out, const WriterTotals& writers,
                             const CacheModelTotals& model, double corunner_progress, bool unsafe, bool interrupted,
                             BenchmarkRecord invalidators) {
  RecordCore core;
  core.name = cache_record_name(params, out.reader_kind);
  core.threads = params.writers;
  core.iterations = model.caches.refreshes;
  core.ops_per_s = per(num(model.caches.refreshes), writers.seconds);
  core.cpu_ns_per_op = per(writers.wait_cpu_ns, num(writers.waits));  // CLOCK_THREAD_CPUTIME_ID around each wait
  core.violations = out.violations;
  core.interrupted = interrupted;
  core.finding_label = unsafe ? "unsafe by design (hook=end)" : "";
  BenchmarkRecord rec = make_record(core, writers.latency, "latency", std::move(invalidators));
  add_wait_counters(rec.counters, writers, model);
  add_model_counters(rec.counters, out, writers, model);
  add_reader_counters(rec, out, writers.seconds);
  if (!out.co_runner_pus.empty()) rec.counters["corunner_progress"] = corunner_progress;
  add_collision_counters(rec.counters, writers.split);
  add_placement_counters(rec.counters, out, writers);
  return rec;
}

nlohmann::json cache_run_json(const CacheParams& p, const CacheResult& out, const Placement& placement,
                              const WriterTotals& writers, bool unsafe, bool interrupted) {
  return run_context(
      "cache", p.run,
      {{"strategy", p.strategy},
       {"hook", p.hook},
       {"filter", p.filter},
       {"check", p.check},
       {"invalidator", p.invalidator},
       {"target", p.target},
       {"rate", p.rate},
       {"hold", p.hold},
       {"writers", p.writers},
       {"co_runner", p.co_runner},
       {"overcommit", p.overcommit},
       {"placement_kind", out.placement_kind},
       {"placement_rule", out.placement_kind.empty() ? "" : placement_rule(parse_cache_placement(out.placement_kind))},
       {"reader_pu", out.reader_pu},
       {"co_runner_pus", out.co_runner_pus},
       {"checker", !p.no_checker},
       {"bug", p.bug},
       {"halt_poll", out.halt_poll},
       {"reader", out.reader_kind},
       {"reader_reason", out.reader_reason},
       {"unsafe_by_design", unsafe},
       {"placement", out.placement},
       {"writer_pus", placement.vcpu_pus},
       {"invalidator_pus", placement.invalidator_pus},
       {"cpu_ns_per_op_source", "CLOCK_THREAD_CPUTIME_ID around each wait"},
       {"cycles", writers.cycles_ok ? "counted (thread_cycles_per_op)" : "unavailable: " + writers.cycles_reason},
       {"leaks", out.leaks.describe()},
       {"interrupted", interrupted}});
}

}  // namespace gpc::scenarios
