// Image and array files as data sets. Pixels of 8-bit images (IDX type 0x08) are scaled to
// [0, 1]; then, unless data.standardize is false, every value is z-scored with the mean and
// (population) standard deviation of its group over the training set: one group per image
// channel (an IDX image file is one channel, as torchvision's Normalize((0.2860,), (0.3530,))
// for Fashion-MNIST), one per feature for 2-D tables (as the CSV loader does). The probe set
// gets the same transform, so it never informs the scaling.
#include "data/file_data.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "base/errors.hpp"
#include "base/npy.hpp"
#include "data/idx.hpp"
#include "nn/rng.hpp"

namespace gradflow {
namespace {

constexpr long kMaxClasses = 65536;  // the output layer has one unit per class

// n items of `features` values each.
struct RawInputs {
  std::string file;
  long n = 0, features = 0;
  std::vector<long> image_shape;         // (C, H, W), or empty for a table
  long groups = 1;                       // standardization groups: channels, or features of a table
  const unsigned char* bytes = nullptr;  // u8 values, item-major: the fast path
  std::function<double(long item, long f)> value;  // any other element type
  double divisor = 1.0;                            // 255 for 8-bit images: pixels in [0, 1]
};

struct Transform {
  std::vector<double> mean, inv_std;  // per group
};

long group_of(const RawInputs& raw, long f) { return f / (raw.features / raw.groups); }

double raw_value(const RawInputs& raw, long item, long f) {
  return raw.bytes
             ? double(raw.bytes[std::size_t(item) * std::size_t(raw.features) + std::size_t(f)])
             : raw.value(item, f);
}

// Mean and inverse std per group over `items` (scaled values); a constant group is only
// centred, since dividing by a zero std would make NaNs.
Transform fit_transform(const RawInputs& raw, const std::vector<long>& items, bool standardize) {
  Transform t{std::vector<double>(std::size_t(raw.groups), 0.0),
              std::vector<double>(std::size_t(raw.groups), 1.0)};
  if (!standardize || items.empty()) return t;
  std::vector<double> sum(std::size_t(raw.groups), 0.0), count(std::size_t(raw.groups), 0.0);
  if (raw.bytes && raw.groups == 1) {
    // 8-bit values: a histogram gives the exact moments in one cheap pass.
    std::array<std::uint64_t, 256> hist{};
    for (long i : items) {
      const unsigned char* p = raw.bytes + std::size_t(i) * std::size_t(raw.features);
      for (long f = 0; f < raw.features; ++f) ++hist[p[f]];
    }
    double n = 0, s = 0;
    for (int v = 0; v < 256; ++v) n += double(hist[v]), s += double(hist[v]) * v / raw.divisor;
    const double mean = s / n;
    double var = 0;
    for (int v = 0; v < 256; ++v)
      var += double(hist[v]) * (v / raw.divisor - mean) * (v / raw.divisor - mean);
    var /= n;
    t.mean[0] = mean;
    t.inv_std[0] = var > 0 ? 1.0 / std::sqrt(var) : 1.0;
    return t;
  }
  for (long i : items)
    for (long f = 0; f < raw.features; ++f) {
      const std::size_t g = std::size_t(group_of(raw, f));
      sum[g] += raw_value(raw, i, f) / raw.divisor;
      count[g] += 1;
    }
  for (std::size_t g = 0; g < sum.size(); ++g) t.mean[g] = sum[g] / count[g];
  std::vector<double> sq(std::size_t(raw.groups), 0.0);
  for (long i : items)
    for (long f = 0; f < raw.features; ++f) {
      const std::size_t g = std::size_t(group_of(raw, f));
      const double c = raw_value(raw, i, f) / raw.divisor - t.mean[g];
      sq[g] += c * c;
    }
  for (std::size_t g = 0; g < sq.size(); ++g) {
    const double var = sq[g] / count[g];
    t.inv_std[g] = var > 0 ? 1.0 / std::sqrt(var) : 1.0;
  }
  return t;
}

// The transformed inputs of `items`, (features, items.size()).
template <class T>
Mat<T> transform_items(const RawInputs& raw, const std::vector<long>& items, const Transform& t) {
  Mat<T> x(raw.features, long(items.size()));
  if (raw.bytes && raw.groups == 1) {
    std::array<T, 256> table;
    for (int v = 0; v < 256; ++v)
      table[std::size_t(v)] = T((v / raw.divisor - t.mean[0]) * t.inv_std[0]);
    for (std::size_t j = 0; j < items.size(); ++j) {
      const unsigned char* p = raw.bytes + std::size_t(items[j]) * std::size_t(raw.features);
      T* out = x.data() + j * std::size_t(raw.features);
      for (long f = 0; f < raw.features; ++f) out[f] = table[p[f]];
    }
    return x;
  }
  for (std::size_t j = 0; j < items.size(); ++j)
    for (long f = 0; f < raw.features; ++f) {
      const std::size_t g = std::size_t(group_of(raw, f));
      x(f, long(j)) = T((raw_value(raw, items[j], f) / raw.divisor - t.mean[g]) * t.inv_std[g]);
    }
  return x;
}

// Non-finite values would poison every statistic; refuse them up front (8-bit data has none).
void check_finite(const RawInputs& raw) {
  if (raw.bytes) return;
  for (long i = 0; i < raw.n; ++i)
    for (long f = 0; f < raw.features; ++f)
      if (!std::isfinite(raw.value(i, f)))
        throw InputError(raw.file, "",
                         "item " + std::to_string(i) + ", value " + std::to_string(f) +
                             ": NaN or Inf is not allowed");
}

// Inputs held in the run's precision; the probe set stays in double (make_probe_set casts it).
void fill_train_inputs(Examples& train, const RawInputs& raw, const std::vector<long>& items,
                       const Transform& t, Precision precision) {
  if (precision == Precision::float32)
    train.x32 = transform_items<float>(raw, items, t);
  else
    train.x = transform_items<double>(raw, items, t);
}

// IDX arrays: item i's values are contiguous, 8-bit ones readable in place.
RawInputs idx_inputs(const IdxArray& a, const std::string& file) {
  RawInputs raw;
  raw.file = file;
  raw.n = a.count();
  raw.features = a.item_size();
  if (a.dims.size() == 3) raw.image_shape = {1, a.dims[1], a.dims[2]};
  if (a.dims.size() == 4) raw.image_shape = {a.dims[1], a.dims[2], a.dims[3]};
  raw.groups = raw.image_shape.empty() ? raw.features : raw.image_shape[0];
  if (a.type == IdxType::u8) {
    raw.bytes = a.values();
    raw.divisor = 255.0;
  } else {
    raw.value = [&a, features = raw.features](long i, long f) { return a.value(i * features + f); };
  }
  return raw;
}

// Class labels, integers in [0, classes) (classes 0: any below kMaxClasses).
std::vector<int> read_labels(long n, const std::function<double(long)>& value,
                             const std::string& file, long classes) {
  const long limit = classes > 0 ? classes : kMaxClasses;
  std::vector<int> labels(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    const double v = value(i);
    if (!(v >= 0 && v < double(limit) && v == std::floor(v)))
      throw InputError(file, "",
                       "label " + std::to_string(i) + " is " + std::to_string(v) +
                           ": labels must be integers in [0, " + std::to_string(limit) + ")" +
                           (classes > 0 ? " (" + std::to_string(classes) + " classes)" : ""));
    labels[std::size_t(i)] = int(v);
  }
  return labels;
}

void check_counts(long inputs, const std::string& inputs_file, long labels,
                  const std::string& labels_file) {
  if (inputs != labels)
    throw InputError(labels_file, "",
                     "has " + std::to_string(labels) + " labels but " + inputs_file + " has " +
                         std::to_string(inputs) + " items; the counts must be equal");
}

long class_count(const std::vector<int>& labels, const std::string& file) {
  const long classes = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  if (classes < 2)
    throw InputError(file, "", "has only class 0; classification needs at least 2 classes");
  return classes;
}

std::string resolve(const std::string& path, const std::string& config_source) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(config_source).parent_path() / p;
  return p.lexically_normal().string();
}

void require_file(const std::string& file, const std::string& config_source,
                  const std::string& json_path) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    throw InputError(config_source, json_path, "no such file: " + file);
}

// Held-out split for single-file data: a seeded shuffle, probe items first (so changing
// train_size keeps the probe set), then up to train_size training items.
struct Split {
  std::vector<long> train, probe;
};
Split shuffled_split(long n, const DataConfig& d, std::uint64_t seed, const std::string& file) {
  if (n < d.probe_size + 1)
    throw InputError(file, "",
                     std::to_string(n) + " items, but at least probe_size + 1 = " +
                         std::to_string(d.probe_size + 1) +
                         " are needed (probe_size items are held out, the rest train)");
  std::vector<std::size_t> order(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng = make_rng(seed, "data");
  shuffle(order, rng);
  Split s;
  const long train_n = std::min(d.train_size, n - d.probe_size);
  for (long i = 0; i < d.probe_size; ++i) s.probe.push_back(long(order[std::size_t(i)]));
  for (long i = 0; i < train_n; ++i) s.train.push_back(long(order[std::size_t(d.probe_size + i)]));
  return s;
}

std::vector<int> pick(const std::vector<int>& labels, const std::vector<long>& items) {
  std::vector<int> out;
  out.reserve(items.size());
  for (long i : items) out.push_back(labels[std::size_t(i)]);
  return out;
}

std::vector<long> first(long count) {
  std::vector<long> items(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) items[std::size_t(i)] = i;
  return items;
}

}  // namespace

Dataset load_fashion_mnist(const DataConfig& d, const std::string& config_source,
                           Precision precision) {
  const bool system = d.path.empty();
  // GRADFLOW_FASHION_MNIST_FOLDER stands in for the package's folder (the tests point it at an
  // empty folder to check the message a machine without the package gives).
  const char* override_folder = std::getenv("GRADFLOW_FASHION_MNIST_FOLDER");
  const std::string system_folder =
      override_folder && *override_folder ? override_folder : kFashionMnistFolder;
  const std::string folder = system ? system_folder : resolve(d.path, config_source);
  // The package installs .gz files; an unpacked copy (MNIST users often have one) also works.
  const auto locate = [&](const std::string& name) {
    std::error_code ec;
    for (const std::string& candidate : {folder + "/" + name + ".gz", folder + "/" + name})
      if (std::filesystem::exists(candidate, ec)) return candidate;
    if (system)
      throw InputError(config_source, "/data/kind",
                       "data.kind \"fashion_mnist\" reads Debian's package dataset-fashion-mnist, "
                       "which is not installed (no " +
                           folder + "/" + name +
                           ".gz); install it "
                           "with: apt-get install dataset-fashion-mnist");
    throw InputError(config_source, "/data/path",
                     "no " + name + ".gz (or " + name + ") in the folder " + folder);
  };
  const std::string train_images = locate("train-images-idx3-ubyte"),
                    train_labels = locate("train-labels-idx1-ubyte"),
                    test_images = locate("t10k-images-idx3-ubyte"),
                    test_labels = locate("t10k-labels-idx1-ubyte");
  constexpr long kClasses = 10;
  const IdxArray train_x = read_idx_file(train_images), train_y = read_idx_file(train_labels);
  const IdxArray test_x = read_idx_file(test_images), test_y = read_idx_file(test_labels);
  for (const auto& [a, file] : {std::pair{&train_x, train_images}, std::pair{&test_x, test_images}})
    if (a->dims.size() != 3)
      throw InputError(
          file, "",
          "expected images (an IDX array of 3 dimensions: count, rows, columns), got " +
              std::to_string(a->dims.size()) + " dimensions");
  if (train_x.dims != test_x.dims &&
      (train_x.dims[1] != test_x.dims[1] || train_x.dims[2] != test_x.dims[2]))
    throw InputError(test_images, "", "its images are not of the training images' size");
  for (const auto& [a, file] : {std::pair{&train_y, train_labels}, std::pair{&test_y, test_labels}})
    if (a->dims.size() != 1)
      throw InputError(file, "",
                       "expected labels (an IDX array of 1 dimension), got " +
                           std::to_string(a->dims.size()) + " dimensions");
  check_counts(train_x.count(), train_images, train_y.count(), train_labels);
  check_counts(test_x.count(), test_images, test_y.count(), test_labels);
  if (test_x.count() < d.probe_size)
    throw InputError(test_images, "",
                     "has " + std::to_string(test_x.count()) +
                         " images, fewer than data.probe_size (" + std::to_string(d.probe_size) +
                         ")");
  const std::vector<int> train_all = read_labels(
      train_y.count(), [&](long i) { return train_y.value(i); }, train_labels, kClasses);
  const std::vector<int> test_all = read_labels(
      test_y.count(), [&](long i) { return test_y.value(i); }, test_labels, kClasses);

  // Training: the first train_size images in file order; probe: the first probe_size test
  // images (the files' order is already shuffled over classes). Neither depends on the seed,
  // so every seed of a sweep trains and probes on the same images and shares one copy.
  const RawInputs train_raw = idx_inputs(train_x, train_images),
                  test_raw = idx_inputs(test_x, test_images);
  check_finite(train_raw);
  check_finite(test_raw);
  const std::vector<long> train_items = first(std::min(d.train_size, train_x.count()));
  const std::vector<long> probe_items = first(d.probe_size);
  const Transform t = fit_transform(train_raw, train_items, d.standardize);
  Dataset data;
  data.task = Task::classification;
  data.inputs = train_raw.features;
  data.outputs = kClasses;
  data.image_shape = train_raw.image_shape;
  fill_train_inputs(data.train, train_raw, train_items, t, precision);
  data.train.labels = pick(train_all, train_items);
  data.probe.x = transform_items<double>(test_raw, probe_items, t);
  data.probe.labels = pick(test_all, probe_items);
  return data;
}

Dataset load_idx_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source,
                         Precision precision) {
  const std::string images_file = resolve(d.path, config_source);
  const std::string labels_file = resolve(d.labels_path, config_source);
  require_file(images_file, config_source, "/data/path");
  require_file(labels_file, config_source, "/data/labels_path");
  const IdxArray images = read_idx_file(images_file), labels_array = read_idx_file(labels_file);
  if (labels_array.item_size() != 1)
    throw InputError(labels_file, "", "expected one label per item (an IDX array of 1 dimension)");
  check_counts(images.count(), images_file, labels_array.count(), labels_file);
  const std::vector<int> labels = read_labels(
      labels_array.count(), [&](long i) { return labels_array.value(i); }, labels_file, 0);
  const RawInputs raw = idx_inputs(images, images_file);
  check_finite(raw);
  const Split split = shuffled_split(raw.n, d, seed, images_file);
  const Transform t = fit_transform(raw, split.train, d.standardize);
  Dataset data;
  data.task = Task::classification;
  data.inputs = raw.features;
  data.outputs = class_count(labels, labels_file);
  data.image_shape = raw.image_shape;
  fill_train_inputs(data.train, raw, split.train, t, precision);
  data.train.labels = pick(labels, split.train);
  data.probe.x = transform_items<double>(raw, split.probe, t);
  data.probe.labels = pick(labels, split.probe);
  return data;
}

Dataset load_npy_dataset(const DataConfig& d, std::uint64_t seed, const std::string& config_source,
                         Precision precision) {
  const std::string x_file = resolve(d.path, config_source);
  const bool classification = !d.labels_path.empty();
  const std::string y_file =
      resolve(classification ? d.labels_path : d.targets_path, config_source);
  require_file(x_file, config_source, "/data/path");
  require_file(y_file, config_source, classification ? "/data/labels_path" : "/data/targets_path");
  const NpyArray x = read_npy_array(x_file);
  const NpyArray y = read_npy_array(y_file);
  const std::size_t ndim = x.shape.size();
  if (ndim < 1 || ndim > 4 || x.count() == 0)
    throw InputError(x_file, "",
                     "expected N x features (2-D) or N x C x H x W (4-D) inputs with N >= 1, got " +
                         std::to_string(ndim) + " dimensions of " + std::to_string(x.count()) +
                         " values");
  RawInputs raw;
  raw.file = x_file;
  raw.n = long(x.shape[0]);
  raw.features = long(x.count() / x.shape[0]);
  if (ndim == 3) raw.image_shape = {1, long(x.shape[1]), long(x.shape[2])};
  if (ndim == 4) raw.image_shape = {long(x.shape[1]), long(x.shape[2]), long(x.shape[3])};
  raw.groups = raw.image_shape.empty() ? raw.features : raw.image_shape[0];
  // Element (i, f) with f the C-order index over the trailing dimensions: at i * features + f
  // in C order; in Fortran order (first index fastest) at i + n * (j1 + d1 * (j2 + d2 * j3)).
  raw.value = [&x, &raw](long i, long f) {
    if (!x.fortran_order)
      return x.value(std::uint64_t(i) * std::uint64_t(raw.features) + std::uint64_t(f));
    std::uint64_t offset = 0, stride = std::uint64_t(raw.n), rest = std::uint64_t(f);
    std::vector<std::uint64_t> index(x.shape.size(), 0);
    for (std::size_t k = x.shape.size(); k-- > 1;) index[k] = rest % x.shape[k], rest /= x.shape[k];
    for (std::size_t k = 1; k < x.shape.size(); ++k)
      offset += index[k] * stride, stride *= x.shape[k];
    return x.value(std::uint64_t(i) + offset);
  };
  check_finite(raw);

  const long y_n = y.shape.empty() ? 0 : long(y.shape[0]);
  check_counts(raw.n, x_file, y_n, y_file);
  const long outputs = y.shape.size() == 2 ? long(y.shape[1]) : 1;
  if (y.shape.size() > 2 || (classification && outputs != 1))
    throw InputError(y_file, "",
                     classification ? "expected N labels (a 1-D array)"
                                    : "expected N x outputs targets (a 1-D or 2-D array)");
  // Values of y at (i, o), in either order.
  const auto y_at = [&](long i, long o) {
    return y.value(y.fortran_order ? std::uint64_t(i + o * y_n) : std::uint64_t(i * outputs + o));
  };
  const Split split = shuffled_split(raw.n, d, seed, x_file);
  const Transform t = fit_transform(raw, split.train, d.standardize);
  Dataset data;
  data.task = classification ? Task::classification : Task::regression;
  data.inputs = raw.features;
  data.image_shape = raw.image_shape;
  fill_train_inputs(data.train, raw, split.train, t, precision);
  data.probe.x = transform_items<double>(raw, split.probe, t);
  if (classification) {
    const std::vector<int> labels = read_labels(
        y_n, [&](long i) { return y_at(i, 0); }, y_file, 0);
    data.outputs = class_count(labels, y_file);
    data.train.labels = pick(labels, split.train);
    data.probe.labels = pick(labels, split.probe);
  } else {
    data.outputs = outputs;
    for (long i = 0; i < y_n; ++i)
      for (long o = 0; o < outputs; ++o)
        if (!std::isfinite(y_at(i, o)))
          throw InputError(y_file, "",
                           "target " + std::to_string(i) + ": NaN or Inf is not allowed");
    const auto targets = [&](const std::vector<long>& items) {
      MatD m(outputs, long(items.size()));
      for (std::size_t j = 0; j < items.size(); ++j)
        for (long o = 0; o < outputs; ++o) m(o, long(j)) = y_at(items[j], o);
      return m;
    };
    data.train.y = targets(split.train);
    data.probe.y = targets(split.probe);
  }
  return data;
}

}  // namespace gradflow
