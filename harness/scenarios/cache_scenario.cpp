#include "scenarios/cache_scenario.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "invalidators/hold.hpp"
#include "invalidators/invalidator.hpp"
#include "memory/memfd_region.hpp"
#include "pfncache/policy.hpp"
#include "scenarios/cache_model.hpp"
#include "scenarios/cache_page.hpp"
#include "scenarios/cache_reader.hpp"
#include "scenarios/cache_record.hpp"
#include "scenarios/cache_writer_group.hpp"
#include "scenarios/measurement_phase.hpp"
#include "scenarios/placement_plan.hpp"
#include "scenarios/rig.hpp"
#include "scenarios/scenario_record.hpp"

namespace gpc::scenarios {
namespace {

using namespace pfncache;

constexpr int kMaxWriters = 64;  // writer pages stay in the first half of the 2 MB region

// Invalidators that keep the cache page's contents inside their notifier bracket, so a
// write that reached the page before range_start is still there afterwards. For the
// others the reader cannot tell a lost write of the cache from one the invalidator
// itself discarded (punch-hole zeroes the page; mmap-fixed copies it before range_start).
bool keeps_contents(InvalidatorType t) {
  return t != InvalidatorType::punch_hole && t != InvalidatorType::mmap_fixed;
}

// Everything the user typed, parsed and checked before any thread or mapping exists.
struct CacheSetup {
  Policy policy;
  std::vector<InvalidatorType> types;
  Target target = Target::cache;
  double rate_hz = 0;
  Nanos hold{0};
  ReaderChoice reader;
  std::string halt_poll_source;  // where the halt-poll parameters came from (issue 12 item 7)
  bool reader_judged = false;  // reader anomalies count as violations for this invalidator mix
};

CacheSetup parse_cache_params(const CacheParams& p) {
  CacheSetup s;
  s.policy.wait = parse_wait(p.strategy);
  s.policy.hook = parse_hook(p.hook);
  s.policy.filter = parse_filter(p.filter);
  s.policy.check = parse_check(p.check);
  s.policy.bug = parse_bug(p.bug);
  const KernelHaltPoll kernel_halt_poll = halt_poll_from_kernel();  // kvm.halt_poll_ns* where readable
  s.policy.halt_poll = kernel_halt_poll.params;
  s.halt_poll_source = kernel_halt_poll.source;
  s.types = parse_invalidator_list(p.invalidator);
  s.target = parse_target(p.target);
  s.rate_hz = parse_rate_hz(p.rate, "--rate");
  s.hold = p.hold == "0" ? Nanos{0} : parse_duration(p.hold, "--hold");
  check_hold_fits(s.hold, p.run.duration, s.policy.refresh_bound);
  if (p.writers < 1 || p.writers > kMaxWriters)
    throw UsageError(fmt::format("--writers {}: use 1 to {}", p.writers, kMaxWriters));
  s.reader = choose_reader(p.reader);
  for (InvalidatorType t : s.types)
    if (t == InvalidatorType::mprotect && s.target == Target::cache)
      throw UnavailableError(
          "--invalidator mprotect --target cache: the page is read-only for microseconds and the reader "
          "writes its acks into it (it would fault); use --target neighbour or unrelated");
  s.reader_judged = s.target != Target::cache || std::all_of(s.types.begin(), s.types.end(), keeps_contents);
  return s;
}

// The rig's memory (2 MB of memfd, with spare pages: a page-swapping step holds one, with
// room for overlap) and its subject, the embedded cache model.
CacheModel& build_cache_model(Rig& rig, const CacheSetup& s, int writers) {
  RegionOptions ro;
  ro.size = kHugePageSize;
  ro.spare_pages = 4 * s.types.size() + 4;
  MemfdRegion& region = rig.set_memory(std::make_unique<MemfdRegion>(ro));
  return rig.set_subject(std::make_unique<CacheModel>(s.policy, region, writers));
}

// One invalidator per type, bracketing its operations with the model's notifier; several
// rotate over the writers' pages.
std::vector<std::unique_ptr<Invalidator>> cache_invalidators(const CacheSetup& s, CacheModel& model,
                                                             GuestRegion& region) {
  std::vector<std::unique_ptr<Invalidator>> out;
  for (size_t i = 0; i < s.types.size(); ++i) {
    InvalidatorConfig cfg;
    cfg.target = s.target;
    cfg.cache_hva = model.pages()[i % model.pages().size()];
    cfg.hold = s.hold;
    cfg.listener = &model.notifier();
    cfg.verify_every = 16;  // verification costs syscalls per step: sample it
    // What the writer and the reader write on a writer's page while steps run: not lost
    // content when it changes (issue 15; the reader's invariants judge these bytes).
    cfg.concurrently_written = {{cache_page::kPending, 2 * sizeof(uint64_t)},  // pending, mask
                                {cache_page::kSlot, sizeof(gpc_event_slot)},
                                {cache_page::kRecord, sizeof(gpc_versioned_record)}};
    out.push_back(make_invalidator(s.types[i], region, cfg));
  }
  return out;
}

void take_reader_outcome(CacheResult& out, const CacheReaderOutcome& r) {
  out.reader = r.counts;
  out.reader_vcpu = r.vcpu;
  out.reader_hung = r.hung;
  out.reader_problem = r.problem;
}

}  // namespace

std::string cache_record_name(const CacheParams& p, const std::string& reader_kind) {
  std::string name = fmt::format("cache/strategy:{}/hook:{}/filter:{}/check:{}/invalidator:{}/target:{}", p.strategy,
                                 p.hook, p.filter, p.check, p.invalidator, p.target);
  if (p.rate != "0") name += "/rate:" + p.rate;
  if (p.hold != "0") name += "/hold:" + p.hold;
  if (p.writers != 1) name += fmt::format("/writers:{}", p.writers);
  if (p.co_runner) name += "/co-runner:on";
  if (p.overcommit) name += "/overcommit:on";
  if (!p.placement.empty()) name += "/placement:" + p.placement;
  if (reader_kind != "guest") name += "/reader:" + reader_kind;
  return name;
}

// The rig: placement, co-runners, memfd memory, the model, invalidators on it, the reader.
// The measured threads: one writer per cache. The extra counters: cache_record.hpp.
CacheResult run_cache(const CacheParams& params) {
  const CacheSetup setup = parse_cache_params(params);
  CacheResult out;
  out.reader_kind = setup.reader.kind;
  out.reader_reason = setup.reader.reason;
  out.reader_judged = setup.reader_judged;
  out.halt_poll = describe(setup.policy.halt_poll) + " (" + setup.halt_poll_source + ")";
  const CachePlan plan = plan_cache_placement(parse_cache_placement(params.placement), params.writers,
                                             static_cast<int>(setup.types.size()), params.co_runner, params.overcommit);
  Rig rig(plan.pins);
  out.placement = rig.placement().describe() + (plan.reader_pu >= 0 ? fmt::format(" reader->PU{}", plan.reader_pu) : "");
  out.placement_kind = placement_name(plan.kind);
  out.reader_pu = plan.reader_pu;
  out.co_runner_pus = plan.pins.co_runner_pus;
  CacheModel& model = build_cache_model(rig, setup, params.writers);
  rig.set_invalidators(cache_invalidators(setup, model, rig.memory()), setup.rate_hz);
  const CacheReader& reader = rig.add_observer(
      std::make_unique<CacheReader>(setup.reader, rig.memory().hva(), model.pages(), params.run.duration, plan.reader_pu));

  MeasurementPhase phase(rig);
  {
    CacheWriterGroup writers(model, rig.placement().vcpu_pus, !params.no_checker, rig.co_runners());
    writers.go();
    phase.wait(params.run.duration);
    writers.join();
    phase.end();
    out.writers = writers.results();
  }
  take_reader_outcome(out, reader.outcome());
  const double corunner_progress = rig.co_runners() ? rig.co_runners()->mean_progress() : 0;
  BenchmarkRecord invalidator_counters;
  add_invalidator_counters(invalidator_counters, rig);
  const CacheModelTotals model_totals = model.finish();
  out.leaks = rig.teardown();

  const bool unsafe = unsafe_by_design(setup.policy);
  const WriterTotals writer_totals = sum_writers(out.writers);
  judge_cache_run(out, writer_totals, model_totals, unsafe);
  out.record = cache_record(params, out, writer_totals, model_totals, corunner_progress, unsafe, phase.interrupted(),
                            std::move(invalidator_counters));
  out.run = cache_run_json(params, out, rig.placement(), writer_totals, unsafe, phase.interrupted());
  return out;
}

void print_cache_table(const CacheResult& r) {
  const auto& c = r.record.counters;
  auto get = [&](const char* k) { auto it = c.find(k); return it == c.end() ? -1.0 : it->second; };
  auto ns_or_dash = [&](const char* k) { return get(k) < 0 ? std::string("-") : format_ns(get(k)); };
  fmt::print("{}\nplacement: {}; reader: {} ({})\n", r.record.name, r.placement, r.reader_kind, r.reader_reason);
  fmt::print("{:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>13} {:>11} {:>9} {:>9} {:>10} {:>7}\n", "strategy", "refreshes",
             "refresh/s", "p50", "p99", "max", "retries/refr", "CPU/refresh", "co-run", "inval", "violations",
             "unsafe");
  const std::string corun = get("corunner_progress") < 0 ? "-" : fmt::format("{:.2f}", get("corunner_progress"));
  fmt::print("{:>9} {:>10} {:>10.0f} {:>9} {:>9} {:>9} {:>13.2f} {:>11} {:>9} {:>9.0f} {:>10.0f} {:>7.0f}\n",
             r.run.value("strategy", ""), r.record.iterations, get("ops_per_s"), format_ns(get("p50_ns")),
             format_ns(get("p99_ns")), format_ns(get("max_ns")), get("retries_per_op"), format_ns(get("cpu_ns_per_op")),
             corun, get("inval_ops"), get("violations"), get("unsafe_violations"));
  fmt::print("reader ({}): events {} ({:.0f}/s) lost {} repeated {} out-of-order {} torn {} backwards {} ({}); "
             "leaks: {}\n",
             r.reader_kind, r.reader.events, get("reader_events_per_s"), r.reader.lost, r.reader.repeated,
             r.reader.out_of_order, r.reader.torn, r.reader.backwards,
             r.reader_judged ? "judged" : "not judged: the invalidator replaces page contents", r.leaks.describe());
  if (r.reader_kind == "guest")
    fmt::print("reader guest: {} sweeps, {} idle exits, vCPU thread busy {:.0f}% of a PU{}\n", r.reader.sweeps,
               r.reader_vcpu.idle_exits, 100 * get("reader_vcpu_cpu_share"),
               r.reader_hung ? "; HUNG: " + r.reader_problem : "");
  if (get("collided_refreshes") >= 0)
    fmt::print("collided: {:.0f} waits, p50 {} p99 {}, CPU {} each; uncollided: {:.0f}, p50 {}; co-runner in "
               "collided waits: {}\n",
               get("collided_refreshes"), ns_or_dash("collided_p50_ns"), ns_or_dash("collided_p99_ns"),
               ns_or_dash("cpu_ns_per_collision"), get("uncollided_refreshes"), ns_or_dash("uncollided_p50_ns"),
               get("corunner_progress_during_waits") < 0 ? "-" : fmt::format("{:.2f}", get("corunner_progress_during_waits")));
  if (get("waiter_runqueue_wait_share") >= 0)
    fmt::print("waiter: run-queue wait {:.1f}% of the run, {:.0f} involuntary switches/s{}\n",
               100 * get("waiter_runqueue_wait_share"), get("waiter_nonvoluntary_switches_per_s"),
               get("placement_held") < 0 ? ""
               : get("placement_held") > 0 ? fmt::format("; placement {} held", r.placement_kind)
                                           : fmt::format("; placement {} NOT held", r.placement_kind));
  if (get("starved_refreshes") > 0)
    fmt::print("starved (livelock): {:.0f} refreshes hit their bound; a liveness finding, not a violation\n",
               get("starved_refreshes"));
  if (r.unsafe_violations > 0)
    fmt::print("unsafe by design: {} breaches of the notifier contract (hook=end keeps the cache valid after "
               "range_start returned)\n",
               r.unsafe_violations);
}

void add_cache_scenario(CLI::App& run, int& exit_code) {
  auto p = std::make_shared<CacheParams>();
  auto* cmd = run.add_subcommand(
      "cache",
      "Layer E: writers use the embedded pfn cache on memfd guest memory while invalidators move or "
      "zap its pages; measures waiter latency, CPU per refresh and co-runner progress per strategy");
  add_run_options(*cmd, p->run);
  cmd->add_option("--strategy", p->strategy, "How a refresh waits: busy|spin|haltpoll|block (default busy)");
  cmd->add_option("--hook", p->hook, "Where caches are invalidated: start|end (default start; end is unsafe by design)");
  cmd->add_option("--filter", p->filter, "Which invalidations force a retry: global|range (default global)");
  cmd->add_option("--check", p->check, "How users validate: rwlock|lockless (default rwlock)");
  cmd->add_option("--invalidator", p->invalidator,
                  "Comma-separated invalidator types, one thread each (default mremap): mremap, mmap-fixed, zap, "
                  "punch-hole, thp-split, thp-collapse, migrate, compact, mprotect");
  cmd->add_option("--target", p->target, "What they hit: cache|neighbour|unrelated (default cache)");
  cmd->add_option("--rate", p->rate, "Operations per second per invalidator; 0 = free-running (default 0)");
  cmd->add_option("--hold", p->hold, "Extra time between range_start and range_end, e.g. 50us (default 0)");
  cmd->add_option("--writers", p->writers, "Writer threads (vCPUs), one cache and page each (default 1)");
  cmd->add_option("--placement", p->placement,
                  "Where the waiter runs: alone (its PU to itself; invalidators and reader elsewhere), shared (a "
                  "co-runner on its PU), overcommit (co-runner and invalidators on its PU). Replaces --co-runner "
                  "and --overcommit");
  cmd->add_flag("--co-runner", p->co_runner,
                "Legacy (use --placement shared): a fixed-work thread on each writer's PU, its progress reported");
  cmd->add_flag("--overcommit", p->overcommit, "Legacy (use --placement overcommit): allow more threads than PUs");
  cmd->add_option("--reader", p->reader,
                  "Who checks the pages: guest (the reader guest under /dev/kvm), host (a host thread), auto "
                  "(default: guest where /dev/kvm is usable, else host)");
  cmd->add_flag("--no-checker", p->no_checker, "Write through khva without the contract checker");
  cmd->add_option("--bug", p->bug, "Reintroduce a historical bug (self-test)")->group("");
  cmd->callback([p, &exit_code] {
    finalize_run_options(p->run);
    const CacheResult r = run_cache(*p);
    exit_code = report_run(p->run, r.run, r.record, r.violations, [&] { print_cache_table(r); });
  });
}

}  // namespace gpc::scenarios
