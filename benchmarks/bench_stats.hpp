// What the benchmarks share: CPU time of this process, and a list of timings as
// {median, min, max, all} for their --json output.
#pragma once

#include <time.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace gradflow::bench {

// CPU time of this process, not wall time: the machine is shared with other work, and wall
// time would count the time slices they take. (torch_peer.py uses time.process_time too.)
inline double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline nlohmann::json stats(const std::vector<double>& v) {
  return {{"median", median(v)},
          {"min", *std::min_element(v.begin(), v.end())},
          {"max", *std::max_element(v.begin(), v.end())},
          {"all", v}};
}

}  // namespace gradflow::bench
