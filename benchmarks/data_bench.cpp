// Times loading Fashion-MNIST through make_dataset (Debian's dataset-fashion-mnist): inflate and
// parse the four IDX files, scale the 60000 training images to [0, 1], standardize them and
// hold them in float32 (probe_size 1: the test file is still inflated and parsed). Prints one
// line per repeat: wall seconds, CPU seconds. benchmarks/data_load.sh runs it beside numpy.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "data/data.hpp"

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::stoi(argv[1]) : 1;
  gradflow::DataConfig d;
  d.kind = gradflow::DataKind::fashion_mnist;
  d.train_size = 60000;
  d.probe_size = 1;
  for (int r = 0; r < repeats; ++r) {
    const auto wall0 = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    const gradflow::Dataset data =
        gradflow::make_dataset(d, 1, "bench.json", gradflow::Precision::float32);
    const double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (data.train.x32.cols() != 60000) return 1;
    std::printf("%.4f %.4f\n", wall, cpu);
  }
  return 0;
}
