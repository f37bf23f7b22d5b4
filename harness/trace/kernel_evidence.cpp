#include "trace/kernel_evidence.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "results/result_file.hpp"
#include "trace/probe_reader.hpp"
#include "trace/trace_instance.hpp"
#include "trace/tracefs_root.hpp"
#include "trace/tracepoint_reader.hpp"

namespace gpc::trace {
namespace {

// The KVM events of include/trace/events/kvm.h (kvm_unmap_hva_range) and
// arch/x86/kvm/trace.h (kvm_pvclock_update, kvm_exit).
constexpr const char* kUnmap = "kvm_unmap_hva_range";
constexpr const char* kPvclock = "kvm_pvclock_update";
constexpr const char* kExit = "kvm_exit";

// Unmap events kept for matching to host ops: 32 bytes each, 128 MB at most. Counting goes
// on beyond it (ktrace_unmap_hva_range); matching then covers the first ones only.
constexpr size_t kMaxUnmapsKept = size_t{1} << 22;

}  // namespace

KernelEvidence::KernelEvidence(EvidenceOptions options) : options_(std::move(options)) {
  if (options_.process == 0) options_.process = ::getpid();
  if (!options_.off_reason.empty()) {
    facilities_.push_back({"tracing", false, options_.off_reason});
    return;
  }
  if (options_.tracepoints) prepare_tracepoints();
  if (options_.refresh_probe) prepare_probe();
}

KernelEvidence::~KernelEvidence() {
  try {
    stop();
  } catch (...) {  // teardown after a failed run: the run's own error is the one to report
  }
  // Members go in reverse order: probe, reader (closes its files), instance (rmdir), root
  // (closes the private mount).
}

void KernelEvidence::prepare_tracepoints() {
  std::string reason;
  root_ = TracefsRoot::open(reason, options_.allow_private_mount);
  if (!root_) {
    facilities_.push_back({"tracefs", false, reason});
    return;
  }
  try {
    InstanceOptions io;
    io.processes = {options_.process};
    instance_ = TraceInstance::create(*root_, io);
    facilities_.push_back({"tracefs", true, fmt::format("{}; instance {}", root_->how(), instance_->name())});
    for (const char* event : {kUnmap, kPvclock, kExit}) {
      try {
        instance_->enable_event("kvm", event);
        events_on_.push_back(std::string("kvm:") + event);
        facilities_.push_back({std::string("tracepoint:kvm:") + event, true, ""});
      } catch (const UnavailableError& e) {
        facilities_.push_back({std::string("tracepoint:kvm:") + event, false, e.what()});
      }
    }
    if (events_on_.empty()) return;
    reader_ = std::make_unique<TracepointReader>(*instance_, std::vector<std::string>{"kvm"});
  } catch (const std::exception& e) {  // UnavailableError or SystemError: a reason, not a failure
    facilities_.push_back({"tracepoints", false, e.what()});
    reader_.reset();
    instance_.reset();
    return;
  }
  reader_->on("kvm", kUnmap, [this](const TraceEvent& e) {
    if (unmaps_.size() < kMaxUnmapsKept)
      unmaps_.push_back({e.ts_ns(), e.tid(), e.field("start").value_or(0), e.field("end").value_or(0)});
    else
      ++unmaps_dropped_;
    ++unmap_total_;
  });
  reader_->on("kvm", kPvclock, [this](const TraceEvent&) { ++pvclock_writes_; });
  reader_->on("kvm", kExit, [this](const TraceEvent& e) {
    const uint64_t key = (e.field("isa").value_or(0) << 32) | e.field("exit_reason").value_or(0);
    auto it = reason_names_.find(key);
    if (it == reason_names_.end()) {
      std::string name = exit_reason_from_text(e.text());
      if (name.empty()) name = fmt::format("reason_{}", key & 0xffffffff);
      it = reason_names_.emplace(key, std::move(name)).first;
    }
    ++exits_[it->second];
  });
}

void KernelEvidence::prepare_probe() {
  std::string reason;
  const std::string symbol = pick_refresh_symbol(read_kallsyms(), reason);
  const std::string name = "kprobe:" + (symbol.empty() ? std::string("kvm_gpc_refresh") : symbol);
  if (!symbol.empty()) probe_ = ProbeReader::open({ProbeKind::kprobe, symbol, 0, symbol}, options_.process, reason);
  facilities_.push_back({name, probe_ != nullptr, probe_ ? "" : reason});
}

void KernelEvidence::start() {
  if (started_) return;
  if (reader_) {
    reader_->start();
    instance_->start();
  }
  if (probe_) probe_->start();
  started_ = true;
}

void KernelEvidence::stop() {
  if (!started_) return;
  started_ = false;
  if (probe_) probe_->stop();
  if (reader_) {
    instance_->stop();
    reader_->stop();  // drains what the buffer still holds
    trace_lost_ = instance_->lost_events();
  }
}

}  // namespace gpc::trace
