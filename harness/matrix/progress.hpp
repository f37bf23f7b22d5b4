// Progress of a matrix run: a one-line bar with ETA when the stream is a terminal, plain
// lines otherwise (CI logs, pipes), one per finished run.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace gpc::matrix {

class Progress {
 public:
  // `total` measured runs and `warmups` warm-up runs planned in this invocation.
  Progress(std::FILE* out, bool tty, int total, int warmups);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void starting(const std::string& what);
  void warmup_done(double seconds);
  void run_done(const std::string& what, const std::string& status, double seconds);
  // A message that must not be overwritten by the bar.
  void note(const std::string& text);
  // Estimated seconds left from the mean time of the runs done so far; < 0 while unknown.
  double eta_seconds() const;

 private:
  void draw(const std::string& what);

  std::FILE* out_;
  bool tty_;
  int total_, warmups_;
  int done_ = 0, warmups_done_ = 0;
  double run_seconds_ = 0, warmup_seconds_ = 0;
  bool bar_drawn_ = false;
};

std::string format_seconds(double s);  // "1m05s", "42s"

}  // namespace gpc::matrix
