// Progress line and interrupt flag; see progress.hpp.
#include "progress.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace gradflow::cli {
namespace {

std::atomic<bool> g_interrupted{false};  // written only by the signal handler

extern "C" void on_signal(int) { g_interrupted.store(true); }

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_interrupted.load(); }

ProgressLine::ProgressLine(std::string label, bool live)
    : label_(std::move(label)),
      live_(live && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::clear() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

bool ProgressLine::update(long step, long steps, double loss) {
  if (interrupted()) return false;
  if (!live_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return true;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = step > 0 ? elapsed * double(steps - step) / double(step) : 0.0;
  std::fprintf(stderr, "\r\033[K%s step %ld/%ld  loss %.4g  ETA %.0fs", label_.c_str(), step,
               steps, loss, eta);
  std::fflush(stderr);
  drawn_ = true;
  return true;
}

ProgressFn ProgressLine::fn() {
  return [this](long step, long steps, double loss) { return update(step, steps, loss); };
}

}  // namespace gradflow::cli
