#include "trace/tracepoint_reader.hpp"

#include <traceevent/event-parse.h>
#include <traceevent/trace-seq.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <utility>

#include "common/errors.hpp"
#include "env/sysfs.hpp"
#include "trace/trace_instance.hpp"
#include "trace/tracefs_shim.h"

namespace gpc::trace {

TraceEvent::TraceEvent(tep_handle* tep, tep_event* event, tep_record* record, int cpu)
    : tep_(tep), event_(event), record_(record), cpu_(cpu) {}

uint64_t TraceEvent::ts_ns() const { return record_->ts; }

int TraceEvent::tid() const { return tep_data_pid(tep_, record_); }

std::optional<uint64_t> TraceEvent::field(const char* name) const {
  unsigned long long value = 0;
  if (tep_get_field_val(nullptr, event_, name, record_, &value, 0) != 0) return std::nullopt;
  return static_cast<uint64_t>(value);
}

std::string TraceEvent::text() const {
  trace_seq s;
  trace_seq_init(&s);
  tep_print_event(tep_, &s, record_, "%s", TEP_PRINT_INFO);
  trace_seq_terminate(&s);
  std::string out(s.buffer, s.len);
  trace_seq_destroy(&s);
  return out;
}

namespace {

// The ring buffer's page header and every format of `systems`. Done here rather than with
// tracefs_local_events_system(), which also parses all of /proc/kallsyms (function names
// for printing that no counter needs): 0.5 s normally, a minute under ThreadSanitizer.
tep_handle* load_formats(const std::string& tracefs, const std::vector<std::string>& systems) {
  tep_handle* tep = tep_alloc();
  if (!tep) return nullptr;
  tep_set_long_size(tep, static_cast<int>(sizeof(long)));
  tep_set_page_size(tep, static_cast<int>(::sysconf(_SC_PAGESIZE)));
  std::string header = read_text_file(tracefs + "/events/header_page").text.value_or("");
  tep_parse_header_page(tep, header.data(), header.size(), static_cast<int>(sizeof(long)));
  for (const std::string& system : systems) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(tracefs + "/events/" + system, ec)) {
      const std::string format = read_text_file(entry.path().string() + "/format").text.value_or("");
      if (!format.empty()) tep_parse_event(tep, format.data(), format.size(), system.c_str());
    }
  }
  return tep;
}

}  // namespace

TracepointReader::TracepointReader(TraceInstance& instance, const std::vector<std::string>& systems)
    : instance_(instance) {
  tep_ = load_formats(instance.tracefs_path(), systems);
  if (!tep_ || tep_get_events_count(tep_) == 0) {
    if (tep_) tep_free(tep_);
    tep_ = nullptr;
    throw UnavailableError(fmt::format("cannot parse the event formats of {} under {}", fmt::join(systems, ","),
                                       instance.tracefs_path()));
  }
}

TracepointReader::~TracepointReader() {
  try {
    stop();
  } catch (...) {  // a handler's error: the run reports its own failure first
  }
  if (tep_) tep_free(tep_);
}

void TracepointReader::on(const std::string& system, const std::string& event, EventHandler handler) {
  tep_event* e = tep_find_event_by_name(tep_, system.c_str(), event.c_str());
  if (!e) throw UnavailableError(fmt::format("{}:{}: no format loaded for this event", system, event));
  handlers_[e->id] = std::move(handler);
}

int TracepointReader::dispatch(tep_event* event, tep_record* record, int cpu, void* self) {
  auto* r = static_cast<TracepointReader*>(self);
  r->events_.fetch_add(1, std::memory_order_relaxed);
  if (auto it = r->handlers_.find(event->id); it != r->handlers_.end())
    it->second(TraceEvent(r->tep_, event, record, cpu));
  return 0;
}

void TracepointReader::drain() {
  if (gpc_tracefs_iterate_raw_events(tep_, instance_.handle(), &TracepointReader::dispatch, this) < 0)
    throw SystemError("tracefs_iterate_raw_events(" + instance_.name() + ")", errno);
}

void TracepointReader::start(Nanos interval) { drainer_.start([this] { drain(); }, interval); }

void TracepointReader::stop() {
  if (drainer_.stop()) drain();  // what arrived since the thread's last pass
}

}  // namespace gpc::trace

#if defined(__SANITIZE_ADDRESS__)
// libtraceevent 1.7.1 (Debian 12) leaks a few bytes inside tep_parse_event() while parsing
// some kvm event formats, even after tep_free(); LeakSanitizer would fail every asan run
// that reads kvm events. Only allocations made inside that parser are suppressed.
extern "C" const char* __lsan_default_suppressions() { return "leak:tep_parse_event\n"; }
#endif
