#include "env/preempt_model.hpp"

#include <sys/utsname.h>
#include <zlib.h>

#include <cctype>

#include <fmt/format.h>

#include "env/sysfs.hpp"

namespace gpc {
namespace {

constexpr std::string_view kDebugfsPath = "/sys/kernel/debug/sched/preempt";

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `word` occurs in `text` as a whole word.
bool has_word(std::string_view text, std::string_view word) {
  for (size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    const bool left = at == 0 || !is_word_char(text[at - 1]);
    const size_t end = at + word.size();
    const bool right = end == text.size() || !is_word_char(text[end]);
    if (left && right) return true;
  }
  return false;
}

// /proc/config.gz decompressed (a few hundred KB), or nullopt if it cannot be read.
std::optional<std::string> read_gzip(const char* path) {
  gzFile f = gzopen(path, "rb");
  if (!f) return std::nullopt;
  std::string out;
  char buf[16384];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const bool ok = n == 0;
  gzclose(f);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> preempt_from_debugfs(std::string_view text) {
  const size_t open = text.find('(');
  const size_t close = text.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open + 1) return std::nullopt;
  return std::string(text.substr(open + 1, close - open - 1));
}

std::optional<std::string> preempt_from_cmdline(std::string_view cmdline) {
  constexpr std::string_view key = "preempt=";
  for (size_t at = cmdline.find(key); at != std::string_view::npos; at = cmdline.find(key, at + 1)) {
    if (at != 0 && cmdline[at - 1] != ' ') continue;  // e.g. not "nopreempt="
    const size_t start = at + key.size();
    const size_t end = cmdline.find_first_of(" \n", start);
    std::string v(cmdline.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (!v.empty()) return v;
  }
  return std::nullopt;
}

std::optional<std::string> preempt_from_config(std::string_view config) {
  // RT first: an RT kernel also selects other PREEMPT options.
  if (has_word(config, "CONFIG_PREEMPT_RT=y")) return "rt";
  if (has_word(config, "CONFIG_PREEMPT_LAZY=y")) return "lazy";
  if (has_word(config, "CONFIG_PREEMPT=y")) return "full";
  if (has_word(config, "CONFIG_PREEMPT_VOLUNTARY=y")) return "voluntary";
  if (has_word(config, "CONFIG_PREEMPT_NONE=y")) return "none";
  return std::nullopt;
}

std::string preempt_from_uname(std::string_view version) {
  if (has_word(version, "PREEMPT_RT")) return "rt";
  if (has_word(version, "PREEMPT_LAZY")) return "lazy";
  if (has_word(version, "PREEMPT_DYNAMIC")) return "dynamic";
  if (has_word(version, "PREEMPT")) return "full";
  return "none";
}

std::string PreemptModel::cond_resched() const {
  if (model == "none" || model == "voluntary")
    return "reschedules when a reschedule is due (preempt=" + model + ")";
  if (model == "full" || model == "lazy" || model == "rt")
    return "is a no-op: the kernel is preemptible (preempt=" + model + ")";
  return "unknown: the preemption model could not be read";
}

PreemptModel detect_preempt_model() {
  PreemptModel m;
  struct utsname u = {};
  uname(&u);
  m.uname_version = u.version;
  const std::string from_uname = preempt_from_uname(m.uname_version);
  m.dynamic = from_uname == "dynamic";
  if (const TextFile dbg = read_text_file(std::string(kDebugfsPath)); dbg.text) {
    if (auto v = preempt_from_debugfs(*dbg.text)) {
      m.model = *v;
      m.source = std::string(kDebugfsPath);
      return m;
    }
  }
  if (m.dynamic) {
    if (const TextFile cmd = read_text_file("/proc/cmdline"); cmd.text) {
      if (auto v = preempt_from_cmdline(*cmd.text)) {
        m.model = *v;
        m.source = "/proc/cmdline (preempt=" + *v + ")";
        return m;
      }
    }
  }
  if (const auto config = read_gzip("/proc/config.gz")) {
    if (auto v = preempt_from_config(*config)) {
      m.model = *v;
      m.source = m.dynamic ? "/proc/config.gz (PREEMPT_DYNAMIC boot default, no preempt= on the command line)"
                           : "/proc/config.gz";
      return m;
    }
  }
  m.source = "uname -v";
  m.model = from_uname == "dynamic" ? "unknown" : from_uname;
  if (m.model == "none") m.model = "none or voluntary";
  return m;
}

nlohmann::json to_json(const PreemptModel& m) {
  return {{"model", m.model},
          {"source", m.source},
          {"dynamic", m.dynamic},
          {"uname_version", m.uname_version},
          {"cond_resched", m.cond_resched()}};
}

}  // namespace gpc
