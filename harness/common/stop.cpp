#include "common/stop.hpp"

#include <atomic>
#include <csignal>

namespace gpc {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
std::atomic<bool> g_installed{false};

void on_stop_signal(int sig) {
  g_signal.store(sig, std::memory_order_relaxed);
  g_stop.store(true, std::memory_order_release);
}

}  // namespace

void install_stop_signal_handlers() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and their loops re-check the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stop.load(std::memory_order_acquire); }
void request_stop() { g_stop.store(true, std::memory_order_release); }
int stop_signal() { return g_signal.load(std::memory_order_relaxed); }
void reset_stop() {
  g_signal.store(0, std::memory_order_relaxed);
  g_stop.store(false, std::memory_order_release);
}

}  // namespace gpc
