// The running kernel's preemption model, which decides what the kernel's cond_resched()
// does: under preempt=none or voluntary it reschedules when a reschedule is due (the
// busy-retry loop of hva_to_pfn_retry yields there); under full, lazy or RT it is a no-op
// because the kernel is preemptible anyway. A userspace thread is preempted when its slice
// ends under every model, which is what the embedded cache's busy strategy relies on
// (docs/pfncache-model.md), so reports say which model its numbers stand for.
//
// Sources, most exact first: /sys/kernel/debug/sched/preempt (the current mode in
// parentheses; read only where debugfs is already mounted and readable, never mounted
// here), the preempt= boot parameter (PREEMPT_DYNAMIC kernels), the boot default from
// /proc/config.gz (CONFIG_PREEMPT_{NONE,VOLUNTARY,LAZY}, CONFIG_PREEMPT, CONFIG_PREEMPT_RT),
// and last the `uname -v` string (PREEMPT_RT, PREEMPT_LAZY, PREEMPT_DYNAMIC, PREEMPT).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gpc {

struct PreemptModel {
  std::string model = "unknown";  // none | voluntary | full | lazy | rt | unknown
  std::string source;             // where it was read, e.g. "/proc/config.gz (CONFIG_PREEMPT_NONE=y)"
  bool dynamic = false;           // PREEMPT_DYNAMIC: the mode can be changed at boot or run time
  std::string uname_version;      // `uname -v`
  // What cond_resched() does under this model, for reports.
  std::string cond_resched() const;
};

PreemptModel detect_preempt_model();
nlohmann::json to_json(const PreemptModel& m);

// Parsers (pure, for tests). Each returns the model name or nullopt if the text says none.
// "none voluntary (full) lazy" -> "full".
std::optional<std::string> preempt_from_debugfs(std::string_view text);
// "... preempt=voluntary ..." -> "voluntary".
std::optional<std::string> preempt_from_cmdline(std::string_view cmdline);
// A kernel config: the CONFIG_PREEMPT_* choice that is =y.
std::optional<std::string> preempt_from_config(std::string_view config);
// "#1 SMP PREEMPT_DYNAMIC ..." -> "dynamic" (mode not in the string); "PREEMPT_RT" -> "rt";
// "PREEMPT_LAZY" -> "lazy"; "PREEMPT" -> "full"; no PREEMPT word -> "none" (voluntary
// kernels print nothing either, so the caller reports "none or voluntary").
std::string preempt_from_uname(std::string_view version);

}  // namespace gpc
