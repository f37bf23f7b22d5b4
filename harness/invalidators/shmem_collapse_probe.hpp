// Whether MADV_COLLAPSE builds a PMD-mapped huge page in a memfd on this kernel (tried
// once on a throw-away 2 MB memfd, then cached).
#pragma once

namespace gpc {
bool shmem_collapse_works();
}
