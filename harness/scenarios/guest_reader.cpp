#include "scenarios/guest_reader.hpp"

#include <fmt/format.h>

#include <span>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "gpc_guest/abi.h"
#include "gpc_guest/event_page.h"
#include "kvm/vcpu_supervisor.hpp"

namespace gpc::scenarios {

static_assert(GPC_READER_MAX_PAGES * GPC_EVENT_PAGE_SIZE <= GPC_GUEST_DATA_SIZE,
              "the reader guest's pages must fit its data slot");

ReaderCounts reader_counts_from_guest(const std::vector<uint64_t>& v) {
  ReaderCounts c;
  if (v.size() != GPC_RD_COUNT) return c;
  c.events = v[GPC_RD_EVENTS];
  c.lost = v[GPC_RD_LOST];
  c.repeated = v[GPC_RD_REPEATED];
  c.out_of_order = v[GPC_RD_OUT_OF_ORDER];
  c.torn = v[GPC_RD_TORN];
  c.spurious = v[GPC_RD_SPURIOUS];
  c.reacks = v[GPC_RD_REACKS];
  c.records = v[GPC_RD_RECORDS];
  c.backwards = v[GPC_RD_BACKWARDS];
  c.sweeps = v[GPC_RD_SWEEPS];
  return c;
}

GuestReader::GuestReader(const GuestReaderOptions& options) : options_(options) {
  if (options_.pages < 1 || options_.pages > GPC_READER_MAX_PAGES)
    throw UsageError(fmt::format("the reader guest watches 1 to {} pages, not {}", GPC_READER_MAX_PAGES,
                                 options_.pages));
  // The page header is the VMM's to set up: magic, and only channel 0 unmasked.
  for (size_t p = 0; p < options_.pages; ++p) {
    auto* page = reinterpret_cast<gpc_event_page*>(options_.data_hva + p * GPC_EVENT_PAGE_SIZE);
    page->magic = GPC_EVENT_MAGIC;
    page->mask = ~uint64_t{1};
  }
  vm_ = std::make_unique<kvm::GuestVm>(kvm_, kvm::GuestVmConfig{"reader", 1, reinterpret_cast<void*>(options_.data_hva)});
  gpc_guest_boot& b = vm_->boot(0);
  b.event_gpa = GPC_GUEST_DATA_GPA;
  b.event_pages = options_.pages;
  b.record_offset = options_.record_offset;
  b.idle_us = options_.idle_us;
  vcpu_ = std::make_unique<kvm::VcpuThread>(vm_->vcpu(0), options_.pu);  // -1 unpinned: see the header

  kvm::SupervisorOptions o;
  o.time_limit = options_.time_limit;
  o.watchdog = options_.watchdog;
  o.request_guest_stop = [vm = vm_.get()] { vm->request_guest_stop(); };
  supervisor_ = std::thread([this, o] {
    kvm::VcpuThread* threads[] = {vcpu_.get()};
    try {
      results_ = kvm::run_vcpus(std::span<kvm::VcpuThread* const>(threads), o);
    } catch (const std::exception& e) {
      kvm::VcpuRunResult r;
      r.outcome = kvm::VcpuOutcome::Error;
      r.message = e.what();
      results_ = {r};
    }
    supervisor_done_.store(true, std::memory_order_release);
  });

  // The guest checks every page's magic and then SYNCs stage 0; until then an invalidator
  // that zeroes a page (punch-hole) would fail that check, so the scenario waits here.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (running() && vcpu_->progress().events == 0 && std::chrono::steady_clock::now() < give_up &&
         !stop_requested())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!running()) {
    const GuestReaderResult r = stop();
    kvm::throw_on_failure({r.vcpu});
    throw std::runtime_error("the reader guest ended before it was ready: " + r.vcpu.message);
  }
  if (vcpu_->progress().events == 0 && stop_requested()) {
    stop(std::chrono::milliseconds(100));
    throw std::runtime_error("stopped before the reader guest was ready");  // exits 128+N (main.cpp)
  }
  if (vcpu_->progress().events == 0) {
    stop(std::chrono::milliseconds(100));
    throw std::runtime_error("the reader guest did not start within 10 s (see `gpcbench info` for KVM)");
  }
}

GuestReader::~GuestReader() {
  if (supervisor_.joinable()) {
    vcpu_->kick(kvm::VcpuOutcome::Stopped);
    supervisor_.join();
  }
  vcpu_.reset();  // the vCPU thread ends before its VM
}

bool GuestReader::running() const { return !supervisor_done_.load(std::memory_order_acquire); }

GuestReaderResult GuestReader::stop(std::chrono::nanoseconds grace) {
  if (result_) return *result_;
  GuestReaderResult out;
  vm_->request_guest_stop();
  const auto give_up = std::chrono::steady_clock::now() + grace;
  while (running() && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (running()) {
    out.hung = true;
    out.hung_reason = fmt::format("the reader guest did not report within {} ms of the stop request",
                                  std::chrono::duration_cast<std::chrono::milliseconds>(grace).count());
    vcpu_->kick(kvm::VcpuOutcome::Hung);
  }
  supervisor_.join();
  out.vcpu = results_.empty() ? kvm::VcpuRunResult{} : results_.front();
  if (out.vcpu.outcome == kvm::VcpuOutcome::Hung && !out.hung) {
    out.hung = true;
    out.hung_reason = out.vcpu.message;
  }
  // REPORT after a complete run; the last SYNC when Ctrl-C or the watchdog cut it short.
  if (out.vcpu.report) out.counts = reader_counts_from_guest(out.vcpu.report->values);
  else if (out.vcpu.last_ucall && out.vcpu.last_ucall->kind == kvm::UcallKind::Sync)
    out.counts = reader_counts_from_guest(out.vcpu.last_ucall->values);
  result_ = out;
  return out;
}

}  // namespace gpc::scenarios
