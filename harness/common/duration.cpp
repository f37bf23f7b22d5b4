#include "common/duration.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/errors.hpp"

namespace gpc {
namespace {

// Splits "12.5ms" into 12.5 and "ms"; false when no number leads.
bool split_number(std::string_view text, double& value, std::string_view& unit) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) return false;
  unit = std::string_view(ptr, static_cast<size_t>(end - ptr));
  return true;
}

}  // namespace

Nanos parse_duration(std::string_view text, std::string_view what) {
  double value = 0;
  std::string_view unit;
  const std::string help = std::string(what) + ": '" + std::string(text) +
                           "' is not a duration; use a number with a unit: ns, us, ms, s or m "
                           "(e.g. 500ms, 3s)";
  if (!split_number(text, value, unit) || !std::isfinite(value)) throw UsageError(help);
  if (value < 0) throw UsageError(std::string(what) + ": a duration cannot be negative (got '" +
                                  std::string(text) + "')");
  double scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "s") scale = 1e9;
  else if (unit == "m" || unit == "min") scale = 60e9;
  else throw UsageError(help);
  const double ns = value * scale;
  if (ns > 1e18) throw UsageError(std::string(what) + ": '" + std::string(text) + "' is too long");
  return Nanos(static_cast<int64_t>(std::llround(ns)));
}

double parse_rate_hz(std::string_view text, std::string_view what) {
  double value = 0;
  std::string_view unit;
  const std::string help = std::string(what) + ": '" + std::string(text) +
                           "' is not a rate; use Hz as a number, optionally with k or M "
                           "(e.g. 1000, 20k), or 0 for free-running";
  if (!split_number(text, value, unit) || !std::isfinite(value)) throw UsageError(help);
  if (unit == "Hz" || unit.empty()) {
  } else if (unit == "k" || unit == "kHz") {
    value *= 1e3;
  } else if (unit == "M" || unit == "MHz") {
    value *= 1e6;
  } else {
    throw UsageError(help);
  }
  if (value < 0) throw UsageError(std::string(what) + ": a rate cannot be negative (got '" +
                                  std::string(text) + "'); use 0 for free-running");
  return value;
}

std::string format_ns(double ns) {
  char buf[64];
  if (!std::isfinite(ns)) return "-";
  if (ns < 1e3) std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  else if (ns < 1e6) std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
  else if (ns < 1e9) std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
  return buf;
}

}  // namespace gpc
