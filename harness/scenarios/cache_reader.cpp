#include "scenarios/cache_reader.hpp"

#include <utility>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "scenarios/cache_page.hpp"

namespace gpc::scenarios {

ReaderChoice choose_reader(const std::string& r) {
  if (r == "host") return {"host", "asked for"};
  if (r != "guest" && r != "auto") throw UsageError(fmt::format("--reader {}: use one of guest, host, auto", r));
  const kvm::KvmAvailability kvm = kvm::probe_kvm();
  if (kvm.usable) return {"guest", r == "auto" ? "auto: /dev/kvm is usable" : "asked for"};
  if (r == "guest") throw UnavailableError(fmt::format("--reader guest: {}; or use --reader host", kvm.reason));
  return {"host", fmt::format("auto: no usable KVM ({}), a host thread stands in", kvm.reason)};
}

CacheReader::CacheReader(ReaderChoice choice, uintptr_t data_hva, std::vector<uintptr_t> pages, Nanos run_duration,
                         int pu)
    : choice_(std::move(choice)), data_hva_(data_hva), pages_(std::move(pages)), run_duration_(run_duration), pu_(pu) {}

void CacheReader::start() {
  if (guest_ || host_) return;
  if (choice_.kind != "guest") {
    host_ = std::make_unique<HostReader>(pages_, pu_);
    return;
  }
  GuestReaderOptions o;
  o.data_hva = data_hva_;
  o.pages = pages_.size();
  o.record_offset = cache_page::kRecord;
  o.pu = pu_;
  o.time_limit = run_duration_ + std::chrono::seconds(30);  // a backstop: the phase ends the run
  guest_ = std::make_unique<GuestReader>(o);
}

void CacheReader::stop() {
  if (stopped_ || !(guest_ || host_)) return;
  stopped_ = true;
  if (host_) {
    outcome_.counts = host_->stop();
    return;
  }
  GuestReaderResult g = guest_->stop();
  outcome_.counts = g.counts;
  outcome_.vcpu = std::move(g.vcpu);
  outcome_.hung = g.hung;
  outcome_.problem = g.hung ? g.hung_reason : "";
  if (!g.hung && !outcome_.vcpu.ok()) kvm::throw_on_failure({outcome_.vcpu});
}

bool CacheReader::running() const { return !guest_ || guest_->running(); }

}  // namespace gpc::scenarios
