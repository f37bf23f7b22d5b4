#include "kvm/guest_vm.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/errors.hpp"
#include "gpc_guest/guest_image.hpp"
#include "kvm/x86_long_mode.hpp"

namespace gpc::kvm {
namespace {

constexpr size_t kHugePage = 2u << 20;

}  // namespace

HostMemory::HostMemory(size_t size) : size_(size) {
  // Over-allocate by 2 MB and align, then keep the whole mapping for munmap.
  map_size_ = size + kHugePage;
  map_ = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                -1, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw SystemError("mmap(guest memory)", errno);
  }
  const auto base = reinterpret_cast<uintptr_t>(map_);
  data_ = reinterpret_cast<void*>((base + kHugePage - 1) & ~(kHugePage - 1));
}

HostMemory::HostMemory(HostMemory&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      map_size_(std::exchange(other.map_size_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

HostMemory::~HostMemory() {
  if (map_) ::munmap(map_, map_size_);
}

GuestVm::GuestVm(const Kvm& kvm, const GuestVmConfig& config) : vm_(kvm), low_(GPC_GUEST_LOW_SIZE) {
  const guests::GuestImage* image = guests::find_guest_image(config.guest);
  if (!image) throw UsageError("no embedded guest named '" + config.guest + "'");
  if (config.vcpus < 1 || config.vcpus > static_cast<int>(GPC_GUEST_MAX_VCPUS))
    throw UsageError("--vcpus must be 1.." + std::to_string(GPC_GUEST_MAX_VCPUS) + ", not " +
                     std::to_string(config.vcpus));
  const int max_vcpus = kvm.check_extension(KVM_CAP_MAX_VCPUS);
  if (max_vcpus > 0 && config.vcpus > max_vcpus)
    throw UnavailableError("KVM allows at most " + std::to_string(max_vcpus) + " vCPUs per VM");
  if (image->size > GPC_GUEST_CODE_MAX)
    throw UnavailableError("guest image '" + config.guest + "' is larger than its code area");

  void* data = config.data_hva;
  if (!data) {
    own_data_ = std::make_unique<HostMemory>(GPC_GUEST_DATA_SIZE);
    data = own_data_->data();
  }
  vm_.add_memslot(0, 0, low_.data(), GPC_GUEST_LOW_SIZE);
  vm_.add_memslot(1, GPC_GUEST_DATA_GPA, data, GPC_GUEST_DATA_SIZE);

  const LongModeLayout layout{GPC_GUEST_PML4_GPA, GPC_GUEST_GDT_GPA, GPC_GUEST_IDENTITY_BYTES};
  write_long_mode_tables(vm_, layout);
  std::memcpy(vm_.gpa_to_hva(GPC_GUEST_CODE_GPA, image->size), image->data, image->size);

  for (int i = 0; i < config.vcpus; ++i) {
    gpc_guest_boot& b = boot(i);
    std::memset(&b, 0, sizeof b);
    b.magic = GPC_BOOT_MAGIC;
    b.vcpu_index = static_cast<uint32_t>(i);
    b.nr_vcpus = static_cast<uint32_t>(config.vcpus);
    auto vcpu = std::make_unique<Vcpu>(vm_, i);
    // -8: the stack looks as if `call` pushed a return address (ABI alignment)
    const uint64_t rsp = GPC_GUEST_STACK_TOP - uint64_t(i) * GPC_GUEST_STACK_STRIDE - 8;
    enter_long_mode(*vcpu, layout, GPC_GUEST_CODE_GPA, rsp,
                    GPC_GUEST_BOOT_GPA + uint64_t(i) * GPC_GUEST_BOOT_STRIDE);
    vcpus_.push_back(std::move(vcpu));
  }
}

gpc_guest_boot& GuestVm::boot(int i) const {
  return *vm_.gpa_ptr<gpc_guest_boot>(GPC_GUEST_BOOT_GPA + uint64_t(i) * GPC_GUEST_BOOT_STRIDE);
}

void GuestVm::request_guest_stop() {
  for (int i = 0; i < vcpu_count(); ++i)
    __atomic_store_n(&boot(i).stop, 1, __ATOMIC_RELEASE);
}

}  // namespace gpc::kvm
