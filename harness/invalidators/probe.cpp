// Whether an invalidator type can run against a target and backing on this machine, and
// why not. make_invalidator(), `gpcbench info` and scenario skips all ask here.
#include <unistd.h>

#include <string>

#include "invalidators/invalidator.hpp"
#include "invalidators/shmem_collapse_probe.hpp"
#include "memory/numa_placement.hpp"
#include "memory/thp_modes.hpp"

namespace gpc {

BackingKind scratch_backing(InvalidatorType type, BackingKind guest) {
  switch (type) {
    case InvalidatorType::zap:
    case InvalidatorType::punch_hole:
      return BackingKind::memfd;  // both are defined on file pages
    case InvalidatorType::thp_split:
    case InvalidatorType::thp_collapse:
      return BackingKind::anonymous;  // MADV_HUGEPAGE anon memory is THP wherever THP is on
    default:
      return guest;
  }
}

static ProbeResult runs() { return {true, ""}; }
static ProbeResult no(std::string reason) { return {false, std::move(reason)}; }

static ProbeResult probe_thp(InvalidatorType type, Target target, const ProbeContext& ctx) {
  const std::string name(invalidator_name(type));
  const ThpModes modes = read_thp_modes();
  const BackingKind backing = target == Target::unrelated ? scratch_backing(type, ctx.backing) : ctx.backing;
  if (backing == BackingKind::anonymous) {
    if (!modes.anon_madvise_works())
      return no(name + " needs anonymous THP; transparent_hugepage/enabled=" + modes.enabled +
                " (an administrator can set madvise)");
    if (target != Target::unrelated && !ctx.hugepage)
      return no(name + " needs a PMD-mapped THP; the anonymous guest region was created without MADV_HUGEPAGE "
                       "(create it with hugepage=true, or use --target unrelated)");
    return runs();
  }
  // memfd (shmem). A 4 KB zap in a PMD-mapped shmem THP drops the whole PMD mapping and the
  // next fault maps the huge folio by PMD again (measured on 6.18): nothing stays split.
  if (type == InvalidatorType::thp_split)
    return no("thp-split needs a PMD-mapped THP that a 4 KB zap leaves split; memfd (shmem) has none with "
              "shmem_enabled=" + modes.shmem_enabled + ", and where it has one the zap drops the whole PMD and the "
              "next fault maps it huge again: use an anonymous THP backing or --target unrelated");
  // Faults give huge pages only where shmem_enabled allows; MADV_COLLAPSE may still build
  // one (6.x kernels honour an explicit collapse even with shmem_enabled=never).
  if (modes.shmem_madvise_works() || shmem_collapse_works()) return runs();
  return no(name + " needs a PMD-mapped THP; memfd (shmem) has none with shmem_enabled=" + modes.shmem_enabled +
            " and MADV_COLLAPSE refused to build one; use --target unrelated or set shmem_enabled=advise");
}

ProbeResult probe(InvalidatorType type, Target target, const ProbeContext& ctx) {
  const std::string name(invalidator_name(type));
  switch (type) {
    case InvalidatorType::mremap:
    case InvalidatorType::mmap_fixed:
    case InvalidatorType::mprotect:
      return runs();
    case InvalidatorType::zap:
      if (target != Target::unrelated && ctx.backing == BackingKind::anonymous && !ctx.accept_content_loss)
        return no("zap is MADV_DONTNEED on a shared memfd page (the same page refaults); on anonymous guest memory "
                  "it would discard the contents: use a memfd backing or --target unrelated");
      return runs();
    case InvalidatorType::punch_hole:
      if (target != Target::unrelated && ctx.backing == BackingKind::anonymous)
        return no("punch-hole needs a file (memfd) backing; anonymous guest memory has no file to punch: "
                  "use a memfd backing or --target unrelated");
      return runs();
    case InvalidatorType::thp_split:
    case InvalidatorType::thp_collapse:
      return probe_thp(type, target, ctx);
    case InvalidatorType::migrate:
      if (numa_node_count() < 2)
        return no("migrate needs >= 2 NUMA nodes to move pages between; this machine has " +
                  std::to_string(numa_node_count()));
      return runs();
    case InvalidatorType::compact:
      if (!ctx.allow_compact)
        return no("compact writes /proc/sys/vm/compact_memory and compacts the whole system; "
                  "it runs only when explicitly allowed (the caller's allow-compact flag)");
      if (access("/proc/sys/vm/compact_memory", W_OK) != 0)
        return no("compact needs write access to /proc/sys/vm/compact_memory (run as root)");
      return runs();
  }
  return no("unknown invalidator type");
}

}  // namespace gpc
