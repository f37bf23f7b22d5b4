// The KVM layer's name for gpc::UniqueFd (common/unique_fd.hpp).
#pragma once

#include "common/unique_fd.hpp"

namespace gpc::kvm {
using UniqueFd = gpc::UniqueFd;
}  // namespace gpc::kvm
