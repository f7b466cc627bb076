// Progress line and interrupt flag; see progress.hpp.
#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>

namespace gradflow::cli {
namespace {

std::atomic<bool> g_interrupted{false};  // written only by the signal handler

// The first Ctrl-C (or SIGTERM) asks the run to stop at the end of its step, writing its
// folder as interrupted; a step can take minutes on a large network, so a second one stops the
// process at once (the next run into the folder starts it clean). Only async-signal-safe calls.
extern "C" void on_signal(int sig) {
  if (!g_interrupted.exchange(true)) {
    static const char kNote[] =
        "\ngradflow: stopping after the current step (interrupt again to stop now)\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kNote, sizeof kNote - 1);
    return;
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

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

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

SweepProgress::SweepProgress(std::size_t total, std::size_t done, double mean_steps, bool live)
    : total_(total),
      done_(done),
      mean_steps_(mean_steps),
      live_(live && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

SweepProgress::~SweepProgress() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

std::string SweepProgress::line(std::chrono::steady_clock::time_point now) const {
  // Appended piecewise: `"[" + std::string` trips a GCC 12 -Wrestrict false positive.
  std::string out = "[";
  ((((out += std::to_string(done_)) += '/') += std::to_string(total_)) += " runs]");
  double left = 0;  // steps still to take
  if (!in_flight_.empty()) {
    out += " running";
    bool first = true;
    for (const auto& [id, r] : in_flight_) {
      ((((out += first ? " " : ", ") += id) += ' ') += std::to_string(r.step)) += '/';
      out += std::to_string(r.steps);
      first = false;
      left += double(std::max(0L, r.steps - r.step));
    }
  }
  const std::size_t waiting = total_ - std::min(total_, done_ + in_flight_.size());
  left += double(waiting) * mean_steps_;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  out += " | ETA ";
  out +=
      steps_seen_ > 0 && elapsed > 0 ? format_duration(left * elapsed / double(steps_seen_)) : "?";
  return out;
}

void SweepProgress::draw(bool force) {
  if (!live_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string text = line(now);
  winsize ws{};  // cut to the terminal's width: a wrapped line cannot be redrawn in place
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 4 && text.size() >= ws.ws_col)
    (text.resize(ws.ws_col - 4), text) += "...";
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void SweepProgress::step(const std::string& id, long step, long steps) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (step < 0) {
    in_flight_.erase(id);
  } else {
    InFlight& r = in_flight_[id];
    steps_seen_ += std::max(0L, step - r.step);
    r.step = step, r.steps = steps;
  }
  draw(false);
}

void SweepProgress::run_done(std::size_t done) {
  const std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  draw(true);
}

void SweepProgress::print_above(const std::function<void()>& print) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
  print();
  draw(true);
}

}  // namespace gradflow::cli
