#include "scenarios/cache_scenario.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "invalidators/runner.hpp"
#include "memory/memfd_region.hpp"
#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_resolver.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "scenarios/cache_page.hpp"
#include "scenarios/co_runner.hpp"
#include "scenarios/guest_reader.hpp"
#include "scenarios/kvm_metrics.hpp"
#include "topology/placement.hpp"
#include "topology/topology.hpp"

namespace gpc::scenarios {
namespace {

using namespace pfncache;

constexpr int kMaxWriters = 64;  // writer pages stay in the first half of the 2 MB region
// Co-runner baseline per PU, right before the run (CoRunner::measure_alone).
constexpr auto kAloneTime = std::chrono::milliseconds(300);

// Invalidators that keep the cache page's contents inside their notifier bracket, so a
// write that reached the page before range_start is still there afterwards. For the
// others the reader cannot tell a lost write of the cache from one the invalidator
// itself discarded (punch-hole zeroes the page; mmap-fixed copies it before range_start).
bool keeps_contents(InvalidatorType t) {
  return t != InvalidatorType::punch_hole && t != InvalidatorType::mmap_fixed;
}

Policy make_policy(const CacheParams& p) {
  Policy policy;
  policy.wait = parse_wait(p.strategy);
  policy.hook = parse_hook(p.hook);
  policy.filter = parse_filter(p.filter);
  policy.check = parse_check(p.check);
  policy.bug = parse_bug(p.bug);
  return policy;
}

struct ReaderChoice {
  std::string kind;    // "guest" or "host"
  std::string reason;  // why, for the table and context.run.reader_reason
};

// --reader guest needs a usable /dev/kvm; auto takes the guest where it can, else says
// why the host thread stands in.
ReaderChoice choose_reader(const std::string& r) {
  if (r == "host") return {"host", "asked for"};
  if (r != "guest" && r != "auto") throw UsageError(fmt::format("--reader {}: use one of guest, host, auto", r));
  const kvm::KvmAvailability kvm = kvm::probe_kvm();
  if (kvm.usable) return {"guest", r == "auto" ? "auto: /dev/kvm is usable" : "asked for"};
  if (r == "guest") throw UnavailableError(fmt::format("--reader guest: {}; or use --reader host", kvm.reason));
  return {"host", fmt::format("auto: no usable KVM ({}), a host thread stands in", kvm.reason)};
}

// Joins the writer threads on every path, so an exception never leaves one running.
struct WriterThreads {
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::thread> threads;
  std::vector<WriterResult> results;
  std::vector<std::exception_ptr> errors;
  void join() {
    stop.store(true);
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  ~WriterThreads() { join(); }
};

double per(double num, double den) { return den > 0 ? num / den : 0; }

}  // namespace

std::string cache_record_name(const CacheParams& p, const std::string& reader_kind) {
  std::string name = fmt::format("cache/strategy:{}/hook:{}/filter:{}/check:{}/invalidator:{}/target:{}", p.strategy,
                                 p.hook, p.filter, p.check, p.invalidator, p.target);
  if (p.rate != "0") name += "/rate:" + p.rate;
  if (p.hold != "0") name += "/hold:" + p.hold;
  if (p.writers != 1) name += fmt::format("/writers:{}", p.writers);
  if (p.co_runner) name += "/co-runner:on";
  if (p.overcommit) name += "/overcommit:on";
  if (reader_kind != "guest") name += "/reader:" + reader_kind;
  return name;
}

CacheResult run_cache(const CacheParams& params) {
  // Everything the user typed is validated before any thread or mapping exists.
  Policy policy = make_policy(params);
  const KernelHaltPoll kernel_halt_poll = halt_poll_from_kernel();  // kvm.halt_poll_ns* (issue 12)
  policy.halt_poll = kernel_halt_poll.params;
  const std::vector<InvalidatorType> types = parse_invalidator_list(params.invalidator);
  const Target target = parse_target(params.target);
  const double rate = parse_rate_hz(params.rate, "--rate");
  const Nanos hold = params.hold == "0" ? Nanos{0} : parse_duration(params.hold, "--hold");
  if (params.writers < 1 || params.writers > kMaxWriters)
    throw UsageError(fmt::format("--writers {}: use 1 to {}", params.writers, kMaxWriters));
  CacheResult out;
  const ReaderChoice reader_choice = choose_reader(params.reader);
  out.reader_kind = reader_choice.kind;
  out.reader_reason = reader_choice.reason;
  for (InvalidatorType t : types)
    if (t == InvalidatorType::mprotect && target == Target::cache)
      throw UnavailableError(
          "--invalidator mprotect --target cache: the page is read-only for microseconds and the reader "
          "writes its acks into it (it would fault); use --target neighbour or unrelated");
  out.reader_judged = target != Target::cache || std::all_of(types.begin(), types.end(), keeps_contents);

  PlacementRequest req;
  req.vcpus = params.writers;
  req.invalidators = static_cast<int>(types.size());
  req.co_runners = params.co_runner;
  req.overcommit = params.overcommit;
  const Placement placement = plan_placement(Topology::system(), req);
  out.placement = placement.describe();

  // Co-runner baselines before anything else runs (one per distinct PU).
  std::map<int, double> alone;
  if (params.co_runner)
    for (int pu : placement.co_runner_pus)
      if (!alone.count(pu)) alone[pu] = CoRunner::measure_alone(pu, kAloneTime);

  out.leaks.before = count_resources();
  const size_t len = pfncache::kPageSize;
  std::vector<double> corunner_rates;
  GpcStats total;
  uint64_t audit_violations = 0, live_after = 0, bad_unmaps = 0;
  uint32_t halt_poll_max = 0;
  ContractStats cs;
  NotifierStats ns;
  Histogram latency;
  BenchmarkRecord& rec = out.record;
  {
    RegionOptions ro;
    ro.size = kHugePageSize;
    ro.spare_pages = 4 * types.size() + 4;  // a page-swapping step holds one; room for overlap
    MemfdRegion region(ro);
    NotifierState vm(policy);
    vm.add_memslot(region.hva(), region.hva() + region.size());  // guest memory: only it moves seq
    MemfdResolver resolver(region);
    ContractChecker checker(vm, &region);
    std::vector<std::unique_ptr<Gpc>> caches;
    std::vector<uintptr_t> pages;
    for (int w = 0; w < params.writers; ++w) {
      pages.push_back(region.hva() + static_cast<uintptr_t>(w) * pfncache::kPageSize);
      caches.push_back(std::make_unique<Gpc>(vm, resolver));
      if (const RefreshResult r = caches.back()->activate(pages.back(), len); r != RefreshResult::kOk)
        throw UnavailableError(fmt::format("activating writer {}'s cache failed: {}", w, to_string(r)));
    }

    std::vector<std::unique_ptr<Invalidator>> invs;
    for (size_t i = 0; i < types.size(); ++i) {
      InvalidatorConfig cfg;
      cfg.target = target;
      cfg.cache_hva = pages[i % pages.size()];  // several invalidators rotate over the writers
      cfg.hold = hold;
      cfg.listener = &vm;
      cfg.verify_every = 16;  // verification costs syscalls per step: sample it
      invs.push_back(make_invalidator(types[i], region, cfg));
    }
    InvalidatorRunner runner(std::move(invs), placement.invalidator_pus, RunnerOptions{rate});

    std::vector<std::unique_ptr<CoRunner>> corunners;
    if (params.co_runner)
      for (int pu : placement.co_runner_pus) corunners.push_back(std::make_unique<CoRunner>(pu));

    {
      // The reader starts first: the guest boots and checks the page magic before events flow.
      std::unique_ptr<HostReader> host_reader;
      std::unique_ptr<GuestReader> guest_reader;
      if (out.reader_kind == "guest") {
        GuestReaderOptions go;
        go.data_hva = region.hva();
        go.pages = pages.size();
        go.record_offset = cache_page::kRecord;
        go.time_limit = params.run.duration + std::chrono::seconds(30);
        guest_reader = std::make_unique<GuestReader>(go);
      } else {
        host_reader = std::make_unique<HostReader>(pages);
      }
      WriterThreads wt;
      wt.results.resize(caches.size());
      wt.errors.resize(caches.size());
      for (size_t w = 0; w < caches.size(); ++w) {
        WriterConfig wc;
        wc.index = static_cast<int>(w);
        wc.pu = placement.vcpu_pus[w];
        wc.checker = params.no_checker ? nullptr : &checker;
        wc.go = &wt.go;
        wc.stop = &wt.stop;
        wt.threads.emplace_back([&, w, wc] {
          try {
            wt.results[w] = run_writer(*caches[w], wc);
          } catch (...) {
            wt.errors[w] = std::current_exception();
            request_stop();
          }
        });
      }
      runner.start();
      wt.go.store(true, std::memory_order_release);
      const Deadline deadline(params.run.duration);
      // A reader guest that ended early (hung, asserted) ends the run: its counts stop there.
      while (!deadline.expired() && !stop_requested() && (!guest_reader || guest_reader->running()))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      wt.join();
      runner.stop();
      if (guest_reader) {
        GuestReaderResult g = guest_reader->stop();
        out.reader = g.counts;
        out.reader_vcpu = std::move(g.vcpu);
        out.reader_hung = g.hung;
        out.reader_problem = g.hung ? g.hung_reason : "";
        if (!g.hung && !out.reader_vcpu.ok()) kvm::throw_on_failure({out.reader_vcpu});
      } else {
        out.reader = host_reader->stop();
      }
      for (auto& e : wt.errors)
        if (e) std::rethrow_exception(e);
      out.writers = std::move(wt.results);
    }
    for (size_t i = 0; i < corunners.size(); ++i) {
      const double r = corunners[i]->stop();
      const double a = alone[corunners[i]->pu()];
      corunner_rates.push_back(a > 0 ? r / a : 0);
    }
    runner.add_counters(rec);

    cs = checker.stats();
    ns = vm.stats();
    for (auto& c : caches) {
      total += c->stats();
      halt_poll_max = std::max(halt_poll_max, c->halt_poll_ns());
      audit_violations += c->audit().violations();
      c->deactivate();
    }
    live_after = resolver.live_mappings();
    bad_unmaps = resolver.bad_unmaps();
  }
  out.leaks.after = count_resources();

  // Verdicts. hook=end breaches are unsafe by design (labelled, not failing); so are the
  // reader's observations in such a run, since the breach is what loses the writes.
  const bool unsafe = unsafe_by_design(policy);
  uint64_t timeouts = 0, failures = 0, null_skips = 0, waits = 0, page_behind = 0, iterations = 0;
  double seconds = 0, task_ns = 0, csw = 0, wait_cpu = 0, cycles = 0;
  bool perf_ok = true, cycles_ok = !out.writers.empty();
  std::string cycles_reason;
  for (const WriterResult& w : out.writers) {
    latency.merge(w.latency);
    timeouts += w.timeouts;
    failures += w.failures;
    null_skips += w.null_skips;
    waits += w.waits;
    page_behind += w.page_behind;
    iterations += w.iterations;
    seconds = std::max(seconds, w.seconds);
    wait_cpu += static_cast<double>(w.wait_cpu_ns);
    if (w.task_clock_ns < 0 || w.context_switches < 0) perf_ok = false;
    task_ns += w.task_clock_ns;
    csw += w.context_switches;
    if (w.cycles < 0) {
      cycles_ok = false;
      cycles_reason = w.cycles_reason;
    }
    cycles += w.cycles;
  }
  const uint64_t reader_anomalies = out.reader.anomalies();
  const uint64_t reader_violations = (out.reader_judged && !unsafe) ? reader_anomalies : 0;
  out.unsafe_violations = cs.unsafe_violations + ((out.reader_judged && unsafe) ? reader_anomalies : 0);
  out.violations = cs.violations() + reader_violations + out.leaks.violations() + audit_violations + timeouts +
                   failures + live_after + bad_unmaps + (out.reader_hung ? 1 : 0);

  const double ops = static_cast<double>(total.refreshes);
  rec.name = cache_record_name(params, out.reader_kind);
  rec.iterations = static_cast<int64_t>(total.refreshes);
  rec.threads = params.writers;
  rec.real_time_ns = latency.mean();
  rec.cpu_time_ns = per(wait_cpu, static_cast<double>(waits));
  rec.label = stop_requested() ? "interrupted" : (unsafe ? "unsafe by design (hook=end)" : "");
  add_latency_counters(rec, latency);
  auto& c = rec.counters;
  c["ops_per_s"] = per(ops, seconds);
  c["retries_per_op"] = per(static_cast<double>(total.retries), ops);
  c["hva_to_pfn_per_op"] = per(static_cast<double>(total.hva_to_pfn), ops);
  c["cpu_ns_per_op"] = rec.cpu_time_ns;
  if (perf_ok) {
    c["context_switches_per_op"] = per(csw, ops);
    c["thread_task_clock_ns_per_op"] = per(task_ns, ops);
  }
  if (cycles_ok) c["thread_cycles_per_op"] = per(cycles, ops);
  if (params.co_runner) {
    double sum = 0;
    for (double r : corunner_rates) sum += r;
    c["corunner_progress"] = per(sum, static_cast<double>(corunner_rates.size()));
  }
  c["violations"] = static_cast<double>(out.violations);
  c["unsafe_violations"] = static_cast<double>(out.unsafe_violations);
  c["uses"] = static_cast<double>(iterations);
  c["waits"] = static_cast<double>(waits);
  c["refresh_timeouts"] = static_cast<double>(timeouts);
  c["refresh_failures"] = static_cast<double>(failures);
  c["checker_accesses"] = static_cast<double>(cs.accesses);
  c["checker_use_after_start"] = static_cast<double>(cs.use_after_start);
  c["checker_stale"] = static_cast<double>(cs.stale);
  c["checker_null_khva"] = static_cast<double>(cs.null_khva + null_skips);
  c["checker_unverifiable"] = static_cast<double>(cs.unverifiable);
  c["audit_violations"] = static_cast<double>(audit_violations);
  c["leaked_fds"] = static_cast<double>(out.leaks.leaked_fds());
  c["leaked_mappings"] = static_cast<double>(out.leaks.leaked_mappings() + live_after);
  c["reader_events"] = static_cast<double>(out.reader.events);
  c["reader_lost"] = static_cast<double>(out.reader.lost);
  c["reader_repeated"] = static_cast<double>(out.reader.repeated);
  c["reader_out_of_order"] = static_cast<double>(out.reader.out_of_order);
  c["reader_torn"] = static_cast<double>(out.reader.torn);
  c["reader_backwards"] = static_cast<double>(out.reader.backwards);
  c["reader_records"] = static_cast<double>(out.reader.records);
  c["reader_reacks"] = static_cast<double>(out.reader.reacks);
  c["reader_judged"] = out.reader_judged ? 1 : 0;
  c["reader_sweeps"] = static_cast<double>(out.reader.sweeps);
  c["reader_events_per_s"] = per(static_cast<double>(out.reader.events), seconds);
  c["reader_guest"] = out.reader_kind == "guest" ? 1 : 0;
  if (out.reader_kind == "guest") {
    const kvm::VcpuRunResult& v = out.reader_vcpu;
    c["reader_hung"] = out.reader_hung ? 1 : 0;
    c["reader_idle_exits"] = static_cast<double>(v.idle_exits);
    c["reader_vcpu_cpu_share"] = per(v.cpu_ns, v.elapsed_ns);  // of one PU, guest + KVM + VMM
    add_kvm_stat_counters(rec, v.stats, {});                   // the reader vCPU's stat deltas
  }
  c["writer_page_behind"] = static_cast<double>(page_behind);
  c["notifier_invalidations"] = static_cast<double>(ns.starts);
  c["caches_invalidated"] = static_cast<double>(ns.caches_invalidated);
  c["wake_syscalls"] = static_cast<double>(ns.wake_syscalls);
  c["spin_ns"] = static_cast<double>(total.spin_ns);
  c["yields"] = static_cast<double>(total.yields);
  c["sleeps"] = static_cast<double>(total.sleeps);
  c["wakeups"] = static_cast<double>(total.wakeups);
  c["invalid_wakeups"] = static_cast<double>(total.invalid_wakeups);
  c["slice_timeouts"] = static_cast<double>(total.slice_timeouts);
  c["polls_preempted"] = static_cast<double>(total.polls_preempted);
  c["polls_successful"] = static_cast<double>(total.polls_successful);
  c["polls_invalid"] = static_cast<double>(total.polls_invalid);
  c["halt_poll_ns"] = static_cast<double>(halt_poll_max);
  c["wait_ns_per_op"] = per(static_cast<double>(total.wait_ns), ops);
  rec.histograms["latency"] = latency;

  nlohmann::json writer_pus = nlohmann::json::array();
  for (int pu : placement.vcpu_pus) writer_pus.push_back(pu);
  nlohmann::json inval_pus = nlohmann::json::array();
  for (int pu : placement.invalidator_pus) inval_pus.push_back(pu);
  out.run = run_context("cache", params.run,
                        {{"strategy", params.strategy},
                         {"hook", params.hook},
                         {"filter", params.filter},
                         {"check", params.check},
                         {"invalidator", params.invalidator},
                         {"target", params.target},
                         {"rate", params.rate},
                         {"hold", params.hold},
                         {"writers", params.writers},
                         {"co_runner", params.co_runner},
                         {"overcommit", params.overcommit},
                         {"checker", !params.no_checker},
                         {"bug", params.bug},
                         {"halt_poll", describe(policy.halt_poll) + " (" + kernel_halt_poll.source + ")"},
                         {"reader", out.reader_kind},
                         {"reader_reason", out.reader_reason},
                         {"unsafe_by_design", unsafe},
                         {"placement", out.placement},
                         {"writer_pus", writer_pus},
                         {"invalidator_pus", inval_pus},
                         {"cpu_ns_per_op_source", "CLOCK_THREAD_CPUTIME_ID around each wait"},
                         {"cycles", cycles_ok ? "counted (thread_cycles_per_op)" : "unavailable: " + cycles_reason},
                         {"leaks", out.leaks.describe()},
                         {"interrupted", stop_requested()}});
  return out;
}

void print_cache_table(const CacheResult& r) {
  const auto& c = r.record.counters;
  auto get = [&](const char* k) { auto it = c.find(k); return it == c.end() ? -1.0 : it->second; };
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
  cmd->add_flag("--co-runner", p->co_runner, "Run a fixed-work thread on each writer's PU and report its progress");
  cmd->add_flag("--overcommit", p->overcommit, "Allow more threads than PUs");
  cmd->add_option("--reader", p->reader,
                  "Who checks the pages: guest (the reader guest under /dev/kvm), host (a host thread), auto "
                  "(default: guest where /dev/kvm is usable, else host)");
  cmd->add_flag("--no-checker", p->no_checker, "Write through khva without the contract checker");
  cmd->add_option("--bug", p->bug, "Reintroduce a historical bug (self-test)")->group("");
  cmd->callback([p, &exit_code] {
    finalize_run_options(p->run);
    const CacheResult r = run_cache(*p);
    if (!p->run.quiet) print_cache_table(r);
    write_run_result(p->run, r.run, {r.record});
    exit_code = r.violations > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace gpc::scenarios
