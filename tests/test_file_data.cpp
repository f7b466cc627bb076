// Image and array files as data sets: the IDX reader (plain and gzip, every element type, every
// kind of damage), data.kind idx / npy / fashion_mnist through make_dataset, an MNIST-sized CSV,
// and bad files through the binary (exit 1, the file named, nothing written).
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "base/errors.hpp"
#include "config/config.hpp"
#include "data/csv_data.hpp"
#include "data/data.hpp"
#include "data/idx.hpp"
#include "support.hpp"

using namespace gradflow;
using namespace gradflow::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;

namespace {

std::string be32(std::uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

// An IDX file of `type` with `dims` and the given big-endian payload.
std::string idx_bytes(unsigned type, const std::vector<std::uint32_t>& dims,
                      const std::string& payload) {
  std::string s{'\0', '\0', char(type), char(dims.size())};
  for (std::uint32_t d : dims) s += be32(d);
  return s + payload;
}

// u8 images (n, rows, cols) with pixel (i, p) = (7 * i + 3 * p) % 256.
std::string u8_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::string payload;
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t p = 0; p < rows * cols; ++p) payload += char((7 * i + 3 * p) % 256);
  return idx_bytes(0x08, {n, rows, cols}, payload);
}

std::string u8_labels(std::uint32_t n, int classes) {
  std::string payload;
  for (std::uint32_t i = 0; i < n; ++i) payload += char(i % std::uint32_t(classes));
  return idx_bytes(0x08, {n}, payload);
}

// gzip (RFC 1952) through zlib, as gzip -c would write it.
std::string gzip(const std::string& data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, uLong(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// A .npy v1.0 file with the given dtype, order, shape text and raw little-endian data.
std::string npy_file(const std::string& descr, bool fortran, const std::string& shape,
                     const std::string& data) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + char(dict.size() & 0xff) + char(dict.size() >> 8) +
         dict + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// The Fashion-MNIST file names in `dir`, filled with generated images.
void fake_mnist(const TempDir& dir, std::uint32_t train, std::uint32_t test, bool gz,
                int label_classes = 10) {
  const auto put = [&](const std::string& name, const std::string& bytes) {
    write_text(dir.file(name + (gz ? ".gz" : "")), gz ? gzip(bytes) : bytes);
  };
  put("train-images-idx3-ubyte", u8_images(train, 28, 28));
  put("train-labels-idx1-ubyte", u8_labels(train, label_classes));
  put("t10k-images-idx3-ubyte", u8_images(test, 28, 28));
  put("t10k-labels-idx1-ubyte", u8_labels(test, label_classes));
}

double mean(const MatD& m) { return m.mean(); }
double stddev(const MatD& m) { return std::sqrt((m.array() - m.mean()).square().mean()); }

}  // namespace

TEST_CASE("IDX files of every element type parse, plain and gzip-compressed", "[idx]") {
  struct Case {
    unsigned type;
    std::string payload;  // big-endian values 1, -2 (or 254 for u8), 3
    std::vector<double> values;
  };
  const Case c = GENERATE(
      Case{0x08, std::string("\x01\xfe\x03", 3), {1, 254, 3}},
      Case{0x09, std::string("\x01\xfe\x03", 3), {1, -2, 3}},
      Case{0x0B, std::string("\x00\x01\xff\xfe\x00\x03", 6), {1, -2, 3}},
      Case{0x0C, std::string("\x00\x00\x00\x01\xff\xff\xff\xfe\x00\x00\x00\x03", 12), {1, -2, 3}},
      Case{0x0D, std::string("\x3f\x80\x00\x00\xc0\x00\x00\x00\x40\x40\x00\x00", 12), {1, -2, 3}},
      Case{0x0E,
           std::string("\x3f\xf0\0\0\0\0\0\0\xc0\0\0\0\0\0\0\0\x40\x08\0\0\0\0\0\0", 24),
           {1, -2, 3}});
  const bool compressed = GENERATE(false, true);
  INFO("type " << c.type << (compressed ? " gzip" : " plain"));
  TempDir dir("idx");
  const std::string bytes = idx_bytes(c.type, {3}, c.payload);
  write_text(dir.file("a"), compressed ? gzip(bytes) : bytes);
  const IdxArray a = read_idx_file(dir.file("a"));
  REQUIRE(a.dims == std::vector<long>{3});
  for (long i = 0; i < 3; ++i) REQUIRE(a.value(i) == c.values[std::size_t(i)]);
}

TEST_CASE("damaged IDX and gzip data are InputErrors naming the file and what is wrong", "[idx]") {
  const std::string good = u8_images(5, 4, 4);
  const std::string gz = gzip(good);
  struct Case {
    const char* what;
    std::string bytes;
    const char* message;
  };
  std::string flipped = gz;
  flipped[gz.size() / 2] = char(flipped[gz.size() / 2] ^ 0x55);
  std::string bad_crc = gz;
  bad_crc[gz.size() - 6] = char(bad_crc[gz.size() - 6] ^ 1);
  const Case c = GENERATE_COPY(
      Case{"wrong magic", std::string("\x00\x01\x08\x03", 4) + good.substr(4),
           "wrong magic number 00 01 08 03"},
      Case{"unknown type", std::string("\x00\x00\x07\x01\x00\x00\x00\x01\x00", 9),
           "wrong magic number 00 00 07 01"},
      Case{"empty", "", "wrong magic number (too short)"},
      Case{"truncated header", good.substr(0, 10), "truncated IDX header"},
      Case{"truncated values", good.substr(0, good.size() - 1), "(truncated)"},
      Case{"extra values", good + "x", "(extra bytes at the end)"},
      Case{"zero dimension", idx_bytes(0x08, {0}, ""), "IDX dimension 1 is 0"},
      Case{"huge dimensions", idx_bytes(0x0E, {0xffffffff, 0xffffffff, 0xffffffff}, ""),
           "more than 64 GiB"},
      // Products that pass 2^64 and wrap to 0, which an empty body would match (the fuzzer's
      // find, and the same with every dimension under the 64 GiB cap on its own).
      Case{"dimensions whose product wraps to 0",
           idx_bytes(0x08, {2, 2, 8, 0x40000000, 0x20000000}, ""), "more than 64 GiB"},
      Case{"float64 dimensions 2^12, 2^12, 2^12, 2^28, 16",
           idx_bytes(0x0E, {0x1000, 0x1000, 0x1000, 0x10000000, 16}, ""), "more than 64 GiB"},
      Case{"gzip cut in the middle", gz.substr(0, gz.size() / 2), "truncated gzip stream"},
      Case{"gzip cut before its trailer", gz.substr(0, gz.size() - 4), "truncated gzip stream"},
      Case{"gzip header only", gz.substr(0, 10), "truncated gzip stream"},
      Case{"gzip with a flipped byte", flipped, "corrupt gzip stream near byte offset"},
      Case{"gzip with a wrong CRC", bad_crc, "zlib says \"incorrect data check\""},
      Case{"gzip then garbage", gz + "junk", "unexpected bytes after the gzip stream"});
  INFO(c.what);
  TempDir dir("idx-bad");
  const std::string file = dir.file("images.gz");
  write_text(file, c.bytes);
  const std::string message = error_of([&] { (void)read_idx_file(file); });
  INFO(message);
  REQUIRE_THAT(message, Contains(file) && Contains(c.message));
}

TEST_CASE(
    "data.kind idx: shapes, [0, 1] scaling, standardization on the training set, a "
    "seeded held-out split, and float32 holding",
    "[data][idx]") {
  TempDir dir("idx-data");
  write_text(dir.file("x.gz"), gzip(u8_images(200, 3, 5)));
  write_text(dir.file("y"), u8_labels(200, 4));
  DataConfig d;
  d.kind = DataKind::idx;
  d.path = "x.gz";  // relative to the config's folder
  d.labels_path = "y";
  d.train_size = 150;
  d.probe_size = 40;
  const std::string config = dir.file("config.json");
  const Dataset data = make_dataset(d, 3, config);
  REQUIRE(data.inputs == 15);
  REQUIRE(data.outputs == 4);
  REQUIRE(data.image_shape == std::vector<long>{1, 3, 5});
  REQUIRE(data.train.size() == 150);
  REQUIRE(data.probe.size() == 40);
  INFO("train mean " << mean(data.train.x) << ", std " << stddev(data.train.x));
  REQUIRE_THAT(mean(data.train.x), WithinAbs(0, 1e-12));
  REQUIRE_THAT(stddev(data.train.x), WithinAbs(1, 1e-12));

  // Unstandardized: pixel / 255 exactly; each item is one of the file's, label and all.
  DataConfig raw = d;
  raw.standardize = false;
  const Dataset plain = make_dataset(raw, 3, config);
  REQUIRE(plain.train.x.minCoeff() >= 0);
  REQUIRE(plain.train.x.maxCoeff() <= 1);
  std::vector<int> seen(200, 0);
  for (const Examples* ex : {&plain.train, &plain.probe})
    for (long j = 0; j < ex->size(); ++j) {
      const long item = std::lround(ex->x(0, j) * 255) * 183 % 256;  // 7^-1 = 183 mod 256
      bool match = false;
      for (long i = item; i < 200 && !match; i += 256) {
        match = ex->labels[std::size_t(j)] == int(i % 4);
        for (long p = 0; p < 15 && match; ++p)
          match = ex->x(p, j) == double((7 * i + 3 * p) % 256) / 255.0;
        if (match) ++seen[std::size_t(i)];
      }
      REQUIRE(match);
    }
  REQUIRE(std::count(seen.begin(), seen.end(), 1) == 190);  // disjoint: no item twice

  // The same seed, the same split; another seed, another.
  REQUIRE(make_dataset(d, 3, config).probe.x == data.probe.x);
  REQUIRE_FALSE(make_dataset(d, 4, config).probe.x == data.probe.x);
  // float32 runs hold float32 only, the exact cast of the float64 values.
  const Dataset f32 = make_dataset(d, 3, config, Precision::float32);
  REQUIRE(f32.train.x.size() == 0);
  REQUIRE(f32.train.x32 == data.train.x.cast<float>());
  REQUIRE(f32.probe.x == data.probe.x);
}

TEST_CASE("data.kind npy: every dtype and both orders give the same data; labels or targets",
          "[data][npy]") {
  TempDir dir("npy-data");
  // 30 items of 2 x 3 x 2 values (C, H, W), value(i, f) = (i + 5 f) % 50.
  const long n = 30, features = 12;
  std::vector<double> c_order, f_order(std::size_t(n * features));
  for (long i = 0; i < n; ++i)
    for (long f = 0; f < features; ++f) c_order.push_back(double((i + 5 * f) % 50));
  for (long i = 0; i < n; ++i)
    for (long f = 0; f < features; ++f) {
      // Fortran order of shape (n, 2, 3, 2): offset i + n * (c + 2 * (h + 3 * w)).
      const long c = f / 6, h = f / 2 % 3, w = f % 2;
      f_order[std::size_t(i + n * (c + 2 * (h + 3 * w)))] = c_order[std::size_t(i * features + f)];
    }
  const auto as = [](const std::vector<double>& v, auto type) {
    std::vector<decltype(type)> out(v.begin(), v.end());
    return raw(out);
  };
  std::vector<std::int64_t> labels;
  for (long i = 0; i < n; ++i) labels.push_back(i % 3);
  write_text(dir.file("y.npy"), npy_file("<i8", false, "(30,)", raw(labels)));
  std::vector<double> targets;
  for (long i = 0; i < n; ++i) targets.push_back(0.5 * double(i)), targets.push_back(-double(i));
  write_text(dir.file("t.npy"), npy_file("<f8", false, "(30, 2)", raw(targets)));

  DataConfig d;
  d.kind = DataKind::npy;
  d.labels_path = "y.npy";
  d.train_size = 20;
  d.probe_size = 10;
  d.standardize = false;
  const std::string config = dir.file("config.json");
  write_text(dir.file("ref.npy"), npy_file("<f8", false, "(30, 2, 3, 2)", raw(c_order)));
  d.path = "ref.npy";
  const Dataset ref = make_dataset(d, 1, config);
  REQUIRE(ref.inputs == 12);
  REQUIRE(ref.image_shape == std::vector<long>{2, 3, 2});
  REQUIRE(ref.outputs == 3);

  struct Variant {
    const char* descr;
    bool fortran;
    std::string data;
  };
  const Variant v =
      GENERATE_COPY(Variant{"|u1", false, as(c_order, std::uint8_t{})},
                    Variant{"<i4", false, as(c_order, std::int32_t{})},
                    Variant{"<f4", false, as(c_order, float{})}, Variant{"<f8", true, raw(f_order)},
                    Variant{"<u2", true, as(f_order, std::uint16_t{})});
  INFO(v.descr << (v.fortran ? " Fortran order" : " C order"));
  write_text(dir.file("x.npy"), npy_file(v.descr, v.fortran, "(30, 2, 3, 2)", v.data));
  d.path = "x.npy";
  const Dataset data = make_dataset(d, 1, config);
  REQUIRE(data.train.x == ref.train.x);
  REQUIRE(data.probe.x == ref.probe.x);
  REQUIRE(data.train.labels == ref.train.labels);

  // 2-D inputs and regression targets.
  write_text(dir.file("x2.npy"), npy_file("<f8", false, "(30, 12)", raw(c_order)));
  DataConfig r = d;
  r.path = "x2.npy";
  r.labels_path.clear();
  r.targets_path = "t.npy";
  const Dataset reg = make_dataset(r, 1, config);
  REQUIRE(reg.task == Task::regression);
  REQUIRE(reg.image_shape.empty());
  REQUIRE(reg.outputs == 2);
  for (long j = 0; j < reg.train.size(); ++j) {
    const double item = reg.train.x(0, j);  // feature 0 of item i is i
    REQUIRE(reg.train.y(0, j) == 0.5 * item);
    REQUIRE(reg.train.y(1, j) == -item);
  }
}

TEST_CASE(
    "data.kind fashion_mnist from a folder: 784 inputs, 10 classes, probe from the test "
    "images, the first train_size training images",
    "[data][fashion_mnist]") {
  const bool gz = GENERATE(true, false);
  INFO((gz ? "gzip files" : "plain files"));
  TempDir dir("mnist");
  fake_mnist(dir, 300, 50, gz);
  DataConfig d;
  d.kind = DataKind::fashion_mnist;
  d.path = dir.path.string();
  d.train_size = 200;
  d.probe_size = 20;
  const Dataset data = make_dataset(d, 1, "config.json");
  REQUIRE(data.inputs == 784);
  REQUIRE(data.outputs == 10);
  REQUIRE(data.image_shape == std::vector<long>{1, 28, 28});
  REQUIRE(data.train.size() == 200);
  REQUIRE(data.probe.size() == 20);
  for (long j = 0; j < 200; ++j) REQUIRE(data.train.labels[std::size_t(j)] == int(j % 10));
  REQUIRE_THAT(mean(data.train.x), WithinAbs(0, 1e-12));
  REQUIRE_THAT(stddev(data.train.x), WithinAbs(1, 1e-12));
  // The seed changes nothing: the split is in file order.
  REQUIRE(make_dataset(d, 2, "config.json").train.x == data.train.x);
  d.standardize = false;
  const Dataset plain = make_dataset(d, 1, "config.json");
  for (long j = 0; j < 20; ++j)  // test image j, pixel 5
    REQUIRE(plain.probe.x(5, j) == double((7 * j + 15) % 256) / 255.0);
}

TEST_CASE("the installed Fashion-MNIST: 60000 training and up to 10000 probe images",
          "[data][fashion_mnist][package]") {
  if (!std::filesystem::exists(std::string(kFashionMnistFolder) + "/train-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist is not installed (scripts/test.sh installs it); skipped");
    return;
  }
  DataConfig d;
  d.kind = DataKind::fashion_mnist;
  d.train_size = 60000;
  d.probe_size = 10000;
  const Dataset data = make_dataset(d, 1, "config.json", Precision::float32);
  REQUIRE(data.train.size() == 60000);
  REQUIRE(data.probe.size() == 10000);
  std::vector<int> counts(10, 0);
  for (int label : data.train.labels) ++counts[std::size_t(label)];
  for (int c : counts) REQUIRE(c == 6000);  // Xiao et al. 2017: balanced classes
  const double m = data.train.x32.cast<double>().mean();
  INFO("standardized training mean " << m);
  REQUIRE_THAT(m, WithinAbs(0, 1e-6));
}

TEST_CASE("an MNIST-sized CSV (60000 rows x 785 columns) loads", "[data][csv][big]") {
  TempDir dir("csv-big");
  const std::string file = dir.file("mnist.csv");
  {
    std::string text = "label";
    for (int p = 0; p < 784; ++p) text += ",p" + std::to_string(p);
    text += '\n';
    std::FILE* f = std::fopen(file.c_str(), "wb");
    std::fwrite(text.data(), 1, text.size(), f);
    std::string line;
    for (int i = 0; i < 60000; ++i) {
      line = std::to_string(i % 10);
      for (int p = 0; p < 784; ++p) line += (p % 7 == (i % 7) ? ",1" : ",0");
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), f);
    }
    std::fclose(f);
  }
  DataConfig d;
  d.kind = DataKind::csv;
  d.path = "mnist.csv";
  d.label_column = "label";
  d.classes = 0;  // counted from the labels, as a csv config's default is
  d.train_size = 60000;
  d.probe_size = 1000;
  const Dataset data = make_dataset(d, 1, dir.file("config.json"));
  REQUIRE(data.inputs == 784);
  REQUIRE(data.outputs == 10);
  REQUIRE(data.train.size() == 59000);
  REQUIRE(data.probe.size() == 1000);
}

TEST_CASE("a CSV too large for the machine's memory is refused with an estimate before reading",
          "[data][csv]") {
  // 60001 lines x 785 used columns need ~1.05 GiB: refused with 1 GiB, loaded with 24 GiB.
  const std::size_t gib = std::size_t{1} << 30;
  const std::string message = error_of([&] { check_csv_memory(60001, 785, "big.csv", gib); });
  REQUIRE_THAT(message, Contains("big.csv") &&
                            Contains("60001 lines of 785 used columns need about 1.1 GiB") &&
                            Contains("the machine has 1.0 GiB"));
  REQUIRE_NOTHROW(check_csv_memory(60001, 785, "big.csv", 24 * gib));
}

TEST_CASE("bad data files through the binary: exit 1, the file named, nothing written",
          "[data][cli][fashion_mnist][idx]") {
  TempDir dir("bad-data");
  const std::string out = dir.file("out");
  const auto run = [&](const std::string& data_json) {
    write_text(dir.file("c.json"),
               R"({"name": "bad", "data": )" + data_json +
                   R"(, "model": {"depth": 1, "width": 4}, "train": {"steps": 2}})");
    return gradflow_cli("run " + dir.file("c.json") + " --out " + out);
  };
  struct Case {
    const char* what;
    std::function<void(const TempDir&)> make;  // writes the folder "m"
    const char* message;
    const char* file;  // named in the message
  };
  const std::string m = dir.file("m");
  const Case c = GENERATE_COPY(
      Case{"truncated gz",
           [](const TempDir& t) {
             fake_mnist(t, 30, 10, true);
             const std::string f = t.file("train-images-idx3-ubyte.gz");
             const std::string bytes = read_text(f);
             write_text(f, bytes.substr(0, bytes.size() / 2));
           },
           "truncated gzip stream", "train-images-idx3-ubyte.gz"},
      Case{"corrupted gz",
           [](const TempDir& t) {
             fake_mnist(t, 30, 10, true);
             const std::string f = t.file("t10k-images-idx3-ubyte.gz");
             std::string bytes = read_text(f);
             for (std::size_t i = 20; i < 40; ++i) bytes[i] = char(bytes[i] ^ 0xa5);
             write_text(f, bytes);
           },
           "corrupt gzip stream", "t10k-images-idx3-ubyte.gz"},
      Case{"wrong magic",
           [](const TempDir& t) {
             fake_mnist(t, 30, 10, false);
             write_text(t.file("train-labels-idx1-ubyte"),
                        idx_bytes(0x08, {30}, std::string(30, '\1')).replace(0, 1, "\x08"));
           },
           "wrong magic number 08 00 08 01", "train-labels-idx1-ubyte"},
      Case{"counts differ",
           [](const TempDir& t) {
             fake_mnist(t, 30, 10, false);
             write_text(t.file("t10k-labels-idx1-ubyte"), u8_labels(9, 10));
           },
           "has 9 labels but", "t10k-labels-idx1-ubyte"},
      Case{"label out of range", [](const TempDir& t) { fake_mnist(t, 30, 10, false, 12); },
           "labels must be integers in [0, 10)", "train-labels-idx1-ubyte"});
  INFO(c.what);
  std::filesystem::create_directories(m);
  TempDir folder("bad-mnist");
  c.make(folder);
  const CliResult r = run(R"({"kind": "fashion_mnist", "path": ")" + folder.path.string() +
                          R"(", "probe_size": 5})");
  INFO(r.output);
  REQUIRE(r.code == 1);
  REQUIRE_THAT(r.output, Contains(c.message) && Contains(c.file));
  REQUIRE_FALSE(std::filesystem::exists(out));

  // An IDX file whose magic number is not IDX's at all, through data.kind idx.
  write_text(dir.file("x"), "P5\n28 28\n255\n" + std::string(784, '\0'));
  write_text(dir.file("y"), u8_labels(1, 2));
  const CliResult magic = run(R"({"kind": "idx", "path": "x", "labels_path": "y"})");
  INFO(magic.output);
  REQUIRE(magic.code == 1);
  REQUIRE_THAT(magic.output, Contains(dir.file("x")) && Contains("wrong magic number 50 35 0a 32"));
  REQUIRE_FALSE(std::filesystem::exists(out));
}

TEST_CASE("fashion_mnist without Debian's package names the package and the install command",
          "[data][cli][fashion_mnist]") {
  TempDir dir("no-package");
  write_text(dir.file("c.json"), R"({"name": "fm", "data": {"kind": "fashion_mnist"},
    "model": {"depth": 1, "width": 4}, "train": {"steps": 2}})");
  const CliResult r = gradflow_cli("run " + dir.file("c.json") + " --out " + dir.file("out"),
                                   "GRADFLOW_FASHION_MNIST_FOLDER=" + dir.file("empty"));
  const std::string& output = r.output;
  INFO(output);
  REQUIRE(r.code == 1);
  REQUIRE_THAT(output, Contains("dataset-fashion-mnist") &&
                           Contains("apt-get install dataset-fashion-mnist") &&
                           Contains(dir.file("c.json")));
  REQUIRE_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST_CASE(
    "a sweep over seeds shares one Fashion-MNIST copy and gives the same results with "
    "--jobs 1 and 2 as runs alone",
    "[data][runner][fashion_mnist]") {
  TempDir dir("fm-sweep");
  TempDir folder("fm-files");
  fake_mnist(folder, 200, 40, true);
  write_text(dir.file("s.json"), R"({"name": "fm", "precision": "float32",
    "data": {"kind": "fashion_mnist", "path": ")" +
                                     folder.path.string() + R"(", "probe_size": 20},
    "model": {"depth": 2, "width": 8}, "train": {"steps": 20, "optimizer": "adam"},
    "log": {"every": 5}, "sweep": {"seeds": 3}})");
  for (const char* jobs : {"1", "2"}) {
    const CliResult r = gradflow_cli("run " + dir.file("s.json") + " --out " + dir.file(jobs) +
                                     " --jobs " + jobs + " -q");
    INFO(r.output);
    REQUIRE(r.code == 0);
  }
  REQUIRE(read_text(dir.file("1") + "/steps.csv") == read_text(dir.file("2") + "/steps.csv"));
  REQUIRE(read_text(dir.file("1") + "/layers.csv") == read_text(dir.file("2") + "/layers.csv"));
  // A run alone (its own load) writes what the sweep's run wrote from the shared copy.
  const CliResult one = gradflow_cli("run " + dir.file("s.json") + " --set sweep.seeds=1 --out " +
                                     dir.file("alone") + " -q");
  INFO(one.output);
  REQUIRE(one.code == 0);
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("alone") + "/runs")) {
    const std::string id = entry.path().filename().string();
    REQUIRE(read_text(entry.path().string() + "/steps.csv") ==
            read_text(dir.file("2") + "/runs/" + id + "/steps.csv"));
  }
}
