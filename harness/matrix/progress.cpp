#include "matrix/progress.hpp"

#include <cmath>

namespace gpc::matrix {

std::string format_seconds(double s) {
  if (s < 0) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

Progress::Progress(std::FILE* out, bool tty, int total, int warmups)
    : out_(out), tty_(tty), total_(total), warmups_(warmups) {}

Progress::~Progress() {
  if (tty_ && bar_drawn_) std::fputc('\n', out_);
}

double Progress::eta_seconds() const {
  if (done_ == 0) return -1;
  const double per_run = run_seconds_ / done_;
  const double per_warmup = warmups_done_ ? warmup_seconds_ / warmups_done_ : per_run;
  return per_run * (total_ - done_) + per_warmup * (warmups_ - warmups_done_);
}

void Progress::draw(const std::string& what) {
  constexpr int kWidth = 30;
  const int filled = total_ ? kWidth * done_ / total_ : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string label = what.size() > 60 ? "..." + what.substr(what.size() - 57) : what;
  std::fprintf(out_, "\r\033[K[%s] %d/%d  ETA %s  %s", bar.c_str(), done_, total_,
               format_seconds(eta_seconds()).c_str(), label.c_str());
  std::fflush(out_);
  bar_drawn_ = true;
}

void Progress::starting(const std::string& what) {
  if (tty_) draw(what);
}

void Progress::warmup_done(double seconds) {
  ++warmups_done_;
  warmup_seconds_ += seconds;
}

void Progress::run_done(const std::string& what, const std::string& status, double seconds) {
  ++done_;
  run_seconds_ += seconds;
  if (tty_) {
    draw(what);
  } else {
    std::fprintf(out_, "[%d/%d] %s: %s (%.1f s, ETA %s)\n", done_, total_, what.c_str(), status.c_str(),
                 seconds, format_seconds(eta_seconds()).c_str());
    std::fflush(out_);
  }
}

void Progress::note(const std::string& text) {
  if (tty_ && bar_drawn_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

}  // namespace gpc::matrix
