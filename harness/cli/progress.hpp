// The live progress line on a terminal (step, loss, ETA) and the interrupt flag set by
// SIGINT / SIGTERM, which stops a run at the next step.
#pragma once

#include <chrono>
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

}  // namespace gradflow::cli
