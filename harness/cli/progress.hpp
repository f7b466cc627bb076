// The live progress lines on a terminal (a run: step, loss, ETA; a sweep: runs done, runs in
// flight with their step, ETA) and the interrupt flag set by SIGINT / SIGTERM, which stops a
// run at the next step.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "run/run.hpp"

namespace gradflow::cli {

// Installs SIGINT/SIGTERM handlers that set the flag read by interrupted().
void install_interrupt_handlers();
bool interrupted();

// A ProgressFn that draws "\r<label> step 120/500  loss 0.532  ETA 3s" on stderr when stderr
// is a terminal and `live` is true (redrawn at most 10 times a second), and that returns false
// once an interrupt arrived.
class ProgressLine {
 public:
  ProgressLine(std::string label, bool live);
  ~ProgressLine();
  bool update(long step, long steps, double loss);
  ProgressFn fn();

 private:
  void clear();
  std::string label_;
  bool live_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// A sweep's live line on stderr (when it is a terminal and `live` is true), redrawn at most
// 10 times a second: "[3/12 runs] running 1a2b 120/500, 3c4d 40/500 | ETA 1m05s". The ETA
// assumes the runs left take `mean_steps` steps each at the rate measured so far. step() is
// safe to call from several threads; print_above() clears the line, prints and redraws it.
class SweepProgress {
 public:
  SweepProgress(std::size_t total, std::size_t done, double mean_steps, bool live);
  ~SweepProgress();
  void step(const std::string& id, long step, long steps);  // step -1: the run ended
  void run_done(std::size_t done);
  void print_above(const std::function<void()>& print);
  // The line's text for the current state (without the redraw throttle); for tests.
  std::string line(std::chrono::steady_clock::time_point now) const;

 private:
  struct InFlight {
    long step = 0, steps = 0;
  };
  void draw(bool force);
  mutable std::mutex mutex_;
  std::size_t total_, done_;
  double mean_steps_;
  bool live_;
  bool drawn_ = false;
  long steps_seen_ = 0;                        // training steps taken by this process's runs so far
  std::map<std::string, InFlight> in_flight_;  // by run id: the line lists them sorted
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "45s", "3m05s", "2h10m".
std::string format_duration(double seconds);

}  // namespace gradflow::cli
