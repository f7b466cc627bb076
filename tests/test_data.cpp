// Data sets: shapes, determinism and the statistical properties each synthetic generator
// promises; then the CSV loader on files the tests write, good and bad.
#include <Eigen/QR>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <numbers>

#include "data/data.hpp"
#include "base/errors.hpp"
#include "support.hpp"

using namespace gradflow;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

DataConfig synthetic(DataKind kind) {
  DataConfig d;
  d.kind = kind;
  d.train_size = 300;
  d.probe_size = 100;
  d.dim = 5;
  d.classes = 3;
  d.outputs = 2;
  d.teacher_depth = 2;
  d.teacher_width = 16;
  return d;
}

bool identical(const MatD& a, const MatD& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

bool identical(const Examples& a, const Examples& b) {
  return identical(a.x, b.x) && identical(a.y, b.y) && a.labels == b.labels;
}

// Mean and (population) variance of a row.
double row_mean(const MatD& m, long r) { return m.row(r).mean(); }
double row_var(const MatD& m, long r) {
  return (m.row(r).array() - m.row(r).mean()).square().mean();
}

double correlation(const MatD& a, long ra, const MatD& b, long rb) {
  const double cov =
      ((a.row(ra).array() - row_mean(a, ra)) * (b.row(rb).array() - row_mean(b, rb))).mean();
  return cov / std::sqrt(row_var(a, ra) * row_var(b, rb));
}

}  // namespace

TEST_CASE("every synthetic generator makes train and probe sets of the configured shapes",
          "[data]") {
  const DataKind kind = GENERATE(DataKind::gaussian_mixture, DataKind::spirals,
                                 DataKind::teacher_student, DataKind::gaussian_targets);
  INFO("kind " << data_kind_name(kind));
  const DataConfig d = synthetic(kind);
  const Dataset data = make_dataset(d, 7, "config.json");
  const bool classification = kind == DataKind::gaussian_mixture || kind == DataKind::spirals;

  REQUIRE(data.task == (classification ? Task::classification : Task::regression));
  REQUIRE(data.inputs == (kind == DataKind::spirals ? 2 : d.dim));
  REQUIRE(data.outputs == (classification ? d.classes : d.outputs));
  for (const Examples* ex : {&data.train, &data.probe}) {
    const long n = ex == &data.train ? d.train_size : d.probe_size;
    INFO((ex == &data.train ? "train" : "probe") << ", size " << ex->size());
    REQUIRE(ex->size() == n);
    REQUIRE(ex->x.rows() == data.inputs);
    REQUIRE(ex->x.allFinite());
    if (classification) {
      REQUIRE(ex->y.size() == 0);
      REQUIRE(ex->labels.size() == static_cast<std::size_t>(n));
      for (int label : ex->labels) REQUIRE((label >= 0 && label < data.outputs));
    } else {
      REQUIRE(ex->labels.empty());
      REQUIRE(ex->y.rows() == data.outputs);
      REQUIRE(ex->y.cols() == n);
      REQUIRE(ex->y.allFinite());
    }
  }
}

TEST_CASE("synthetic data is bit-identical for a seed and differs between seeds", "[data]") {
  const DataKind kind = GENERATE(DataKind::gaussian_mixture, DataKind::spirals,
                                 DataKind::teacher_student, DataKind::gaussian_targets);
  INFO("kind " << data_kind_name(kind));
  DataConfig d = synthetic(kind);
  d.noise = 0.1;
  const Dataset a = make_dataset(d, 11, "config.json");
  const Dataset b = make_dataset(d, 11, "config.json");
  const Dataset c = make_dataset(d, 12, "config.json");
  REQUIRE(identical(a.train, b.train));
  REQUIRE(identical(a.probe, b.probe));
  REQUIRE_FALSE(identical(a.train.x, c.train.x));
  REQUIRE_FALSE(identical(a.probe.x, c.probe.x));
}

TEST_CASE("gaussian mixture: balanced classes, separable at separation 5, chance at 0", "[data]") {
  DataConfig d = synthetic(DataKind::gaussian_mixture);
  d.dim = 16;
  d.classes = 4;
  d.train_size = 4000;
  d.probe_size = 2000;

  // Nearest class mean, with means estimated on the training set, scored on the probe set.
  const auto accuracy = [&](double separation) {
    d.separation = separation;
    const Dataset data = make_dataset(d, 3, "config.json");
    MatD means = MatD::Zero(d.dim, d.classes);
    VecD counts = VecD::Zero(d.classes);
    for (long i = 0; i < data.train.size(); ++i) {
      const int k = data.train.labels[static_cast<std::size_t>(i)];
      means.col(k) += data.train.x.col(i);
      counts(k) += 1;
    }
    for (long k = 0; k < d.classes; ++k) {
      const double expected = double(d.train_size) / double(d.classes);
      INFO("class " << k << ": " << counts(k) << " training examples");
      REQUIRE((counts(k) > 0.85 * expected && counts(k) < 1.15 * expected));
      means.col(k) /= counts(k);
      // Means lie at distance `separation` from the origin (plus estimation noise ~ 0.13).
      INFO("|mean| = " << means.col(k).norm());
      REQUIRE_THAT(means.col(k).norm(), WithinAbs(separation, 0.5));
    }
    long correct = 0;
    for (long i = 0; i < data.probe.size(); ++i) {
      Eigen::Index nearest = 0;
      (means.colwise() - data.probe.x.col(i)).colwise().squaredNorm().minCoeff(&nearest);
      correct += nearest == data.probe.labels[static_cast<std::size_t>(i)];
    }
    return double(correct) / double(data.probe.size());
  };

  const double separated = accuracy(5.0);
  INFO("accuracy at separation 5: " << separated);
  REQUIRE(separated > 0.97);
  const double overlapping = accuracy(0.0);
  INFO("accuracy at separation 0: " << overlapping);
  REQUIRE_THAT(overlapping, WithinAbs(0.25, 0.05));  // chance; std of the estimate ~0.01
}

TEST_CASE("spirals: each point lies on its own arm, features have about unit variance", "[data]") {
  DataConfig d = synthetic(DataKind::spirals);
  d.classes = 3;
  d.turns = 1.5;
  d.noise = 0.0;
  d.train_size = 3000;
  const Dataset data = make_dataset(d, 5, "config.json");
  // Undo the documented scale 1 / sqrt(1/6 + noise^2); then radius t, angle 2 pi (turns t + k/K).
  const double scale = 1.0 / std::sqrt(1.0 / 6.0);
  double worst = 0;
  for (long i = 0; i < data.train.size(); ++i) {
    const double x = data.train.x(0, i) / scale, y = data.train.x(1, i) / scale;
    const double t = std::hypot(x, y);
    const int arm = data.train.labels[static_cast<std::size_t>(i)];
    REQUIRE(t < 1.0);
    if (t < 1e-6) continue;  // the angle of a point at the centre is meaningless
    const double expected = 2 * std::numbers::pi * (d.turns * t + double(arm) / d.classes);
    worst = std::max(worst,
                     std::abs(std::remainder(std::atan2(y, x) - expected, 2 * std::numbers::pi)));
  }
  INFO("largest angle off the arm: " << worst);
  REQUIRE(worst < 1e-9);

  d.classes = 2;
  d.noise = 0.1;
  const Dataset noisy = make_dataset(d, 5, "config.json");
  for (long f = 0; f < 2; ++f) {
    INFO("feature " << f << ": mean " << row_mean(noisy.train.x, f) << ", variance "
                    << row_var(noisy.train.x, f));
    REQUIRE_THAT(row_mean(noisy.train.x, f), WithinAbs(0.0, 0.15));
    REQUIRE_THAT(row_var(noisy.train.x, f), WithinAbs(1.0, 0.15));
  }
}

TEST_CASE("teacher-student targets are standardised on the training set", "[data]") {
  DataConfig d = synthetic(DataKind::teacher_student);
  d.teacher_activation = GENERATE(Activation::tanh, Activation::relu);
  d.noise = GENERATE(0.0, 0.3);
  d.train_size = 2000;
  d.probe_size = 1000;
  const Dataset data = make_dataset(d, 9, "config.json");
  INFO("activation " << activation_name(d.teacher_activation) << ", noise " << d.noise);
  for (long o = 0; o < d.outputs; ++o) {
    INFO("output " << o << ": train mean " << row_mean(data.train.y, o) << ", variance "
                   << row_var(data.train.y, o) << "; probe mean " << row_mean(data.probe.y, o)
                   << ", variance " << row_var(data.probe.y, o));
    REQUIRE_THAT(row_mean(data.train.y, o), WithinAbs(0.0, 1e-12));
    REQUIRE_THAT(row_var(data.train.y, o), WithinRel(1.0, 1e-12));
    REQUIRE_THAT(row_mean(data.probe.y, o), WithinAbs(0.0, 0.15));
    REQUIRE_THAT(row_var(data.probe.y, o), WithinAbs(1.0, 0.2));
  }
}

TEST_CASE("teacher-student: targets are the teacher's function of x, noise is relative", "[data]") {
  // A linear teacher makes y an exact affine function of x (standardising shifts it), so least
  // squares measures the noise: the unexplained variance of the standardised targets is
  // noise^2 / (1 + noise^2).
  DataConfig d = synthetic(DataKind::teacher_student);
  d.teacher_activation = Activation::identity;
  d.outputs = 1;
  d.train_size = 20000;
  d.noise = GENERATE(0.0, 0.5);
  const Dataset data = make_dataset(d, 4, "config.json");
  MatD xt(d.train_size, d.dim + 1);  // (n, dim + 1): the inputs and an intercept
  xt << data.train.x.transpose(), VecD::Ones(d.train_size);
  const VecD w = xt.colPivHouseholderQr().solve(data.train.y.row(0).transpose());
  const double residual =
      (xt * w - data.train.y.row(0).transpose()).squaredNorm() / double(d.train_size);
  const double expected = d.noise * d.noise / (1 + d.noise * d.noise);
  INFO("noise " << d.noise << ": unexplained variance " << residual << ", expected " << expected);
  REQUIRE_THAT(residual, WithinAbs(expected, d.noise == 0 ? 1e-20 : 0.01));
}

TEST_CASE("gaussian targets are independent of the inputs", "[data]") {
  DataConfig d = synthetic(DataKind::gaussian_targets);
  d.dim = 8;
  d.outputs = 3;
  d.train_size = 10000;
  const Dataset data = make_dataset(d, 21, "config.json");
  // Sample correlations of independent variables have std 1/sqrt(n) = 0.01.
  for (long o = 0; o < d.outputs; ++o) {
    INFO("output " << o << ": mean " << row_mean(data.train.y, o) << ", variance "
                   << row_var(data.train.y, o));
    REQUIRE_THAT(row_mean(data.train.y, o), WithinAbs(0.0, 0.05));
    REQUIRE_THAT(row_var(data.train.y, o), WithinAbs(1.0, 0.05));
    for (long f = 0; f < d.dim; ++f) {
      const double r = correlation(data.train.x, f, data.train.y, o);
      INFO("corr(x" << f << ", y" << o << ") = " << r);
      REQUIRE(std::abs(r) < 0.045);
    }
  }
}

// ---- CSV files. Each test writes its own files into a fresh temp folder; the config path is
// never read, only its folder, against which relative data paths resolve.

namespace {

struct CsvFixture {
  test::TempDir dir{"csv"};
  std::string config = dir.file("config.json");

  // Writes `content` to `name` in the folder; returns the file's path.
  std::string write(const std::string& name, const std::string& content) const {
    test::write_text(dir.file(name), content);
    return dir.file(name);
  }
};

DataConfig csv_config(const std::string& path) {
  DataConfig d;
  d.kind = DataKind::csv;
  d.path = path;
  d.train_size = 100;
  d.probe_size = 5;
  d.standardize = false;
  d.classes = 0;  // as parse_config sets it for csv: counted from the labels present
  return d;
}

// 30 rows: name (text), x1 = i, x2 = 2 i + 0.5, label = i % 3.
std::string labelled_csv() {
  std::string s = "name,x1,x2,label\n";
  for (int i = 0; i < 30; ++i)
    s += "row" + std::to_string(i) + "," + std::to_string(i) + "," + std::to_string(2 * i + 0.5) +
         "," + std::to_string(i % 3) + "\n";
  return s;
}

}  // namespace

TEST_CASE("csv classification: feature subset, labels, every row used once", "[data]") {
  CsvFixture f;
  f.write("labelled.csv", labelled_csv());
  DataConfig d = csv_config("labelled.csv");
  d.label_column = "label";
  d.feature_columns = {"x1", "x2"};  // "name" is text: unused columns are never parsed
  const Dataset data = make_dataset(d, 1, f.config);

  REQUIRE(data.task == Task::classification);
  REQUIRE(data.inputs == 2);
  REQUIRE(data.outputs == 3);
  REQUIRE(data.train.size() == 25);  // train_size 100, but only 30 - 5 rows remain
  REQUIRE(data.probe.size() == 5);
  std::vector<int> seen(30, 0);
  for (const Examples* ex : {&data.train, &data.probe}) {
    for (long j = 0; j < ex->size(); ++j) {
      const double x1 = ex->x(0, j);
      INFO("example " << j << ": x1 " << x1 << ", x2 " << ex->x(1, j) << ", label "
                      << ex->labels[std::size_t(j)]);
      REQUIRE(ex->x(1, j) == 2 * x1 + 0.5);
      REQUIRE(ex->labels[std::size_t(j)] == int(x1) % 3);
      seen[std::size_t(x1)] += 1;
    }
  }
  REQUIRE(seen == std::vector<int>(30, 1));

  // The probe rows are held out first, so a smaller training set keeps the same probe set.
  d.train_size = 10;
  const Dataset smaller = make_dataset(d, 1, f.config);
  REQUIRE(smaller.train.size() == 10);
  REQUIRE(identical(smaller.probe, data.probe));
  REQUIRE(identical(smaller.train.x, data.train.x.leftCols(10)));
  // The row order is shuffled by the seed.
  d.train_size = 100;
  REQUIRE(identical(make_dataset(d, 1, f.config).train, data.train));
  REQUIRE_FALSE(identical(make_dataset(d, 2, f.config).train.x, data.train.x));
}

TEST_CASE("csv regression: targets, default features, tolerant syntax", "[data]") {
  CsvFixture f;
  // A BOM, quoted header names, CRLF line ends, spaces around fields, blank lines, a '+'.
  std::string s = "\xEF\xBB\xBF\"a\", b ,t1,\"t2\"\r\n\r\n";
  for (int i = 0; i < 12; ++i) {
    s += " " + std::string(i == 3 ? "+" : "") + std::to_string(i) + " , " + std::to_string(2 * i) +
         "," + std::to_string(3 * i) + "\t, " + std::to_string(-i) + "e0\r\n";
    if (i == 6) s += "  \r\n";
  }
  std::filesystem::create_directories(f.dir.path / "sub");
  const std::string absolute = f.write("sub/regression.csv", s);

  for (const std::string& path : {std::string("sub/regression.csv"), absolute}) {
    INFO("data.path " << path);
    DataConfig d = csv_config(path);
    d.target_columns = {"t1", "t2"};
    d.probe_size = 2;
    const Dataset data = make_dataset(d, 3, f.config);
    REQUIRE(data.task == Task::regression);
    REQUIRE(data.inputs == 2);
    REQUIRE(data.outputs == 2);
    REQUIRE(data.train.size() == 10);
    REQUIRE(data.probe.size() == 2);
    REQUIRE(data.train.labels.empty());
    for (const Examples* ex : {&data.train, &data.probe}) {
      for (long j = 0; j < ex->size(); ++j) {
        INFO("example " << j << ": a " << ex->x(0, j) << ", b " << ex->x(1, j) << ", t1 "
                        << ex->y(0, j) << ", t2 " << ex->y(1, j));
        REQUIRE(ex->x(1, j) == 2 * ex->x(0, j));
        REQUIRE(ex->y(0, j) == 3 * ex->x(0, j));
        REQUIRE(ex->y(1, j) == -ex->x(0, j));
      }
    }
  }
}

TEST_CASE("csv standardize: training-set statistics, applied to the probe set too", "[data]") {
  CsvFixture f;
  // f1 is an exact decimal function of id; f2 is constant (std 0: centred, not divided).
  const auto f1 = [](int id) { return (id * 7) % 11 + 0.25 * id; };
  std::string s = "id,f1,f2\n";
  for (int i = 0; i < 40; ++i) s += std::to_string(i) + "," + std::to_string(f1(i)) + ",7\n";
  f.write("features.csv", s);
  DataConfig d = csv_config("features.csv");
  d.target_columns = {"id"};  // the target identifies the row, so raw values can be recomputed
  d.probe_size = 8;
  d.standardize = true;
  const Dataset data = make_dataset(d, 5, f.config);
  REQUIRE(data.inputs == 2);

  INFO("train f1 mean " << row_mean(data.train.x, 0) << ", variance " << row_var(data.train.x, 0));
  REQUIRE_THAT(row_mean(data.train.x, 0), WithinAbs(0.0, 1e-12));
  REQUIRE_THAT(row_var(data.train.x, 0), WithinRel(1.0, 1e-12));
  REQUIRE(data.train.x.row(1).isZero(0.0));
  REQUIRE(data.probe.x.row(1).isZero(0.0));

  VecD raw(data.train.size());
  for (long j = 0; j < raw.size(); ++j) raw(j) = f1(int(data.train.y(0, j)));
  const double mean = raw.mean();
  const double std = std::sqrt((raw.array() - mean).square().mean());
  for (long j = 0; j < data.probe.size(); ++j) {
    const double expected = (f1(int(data.probe.y(0, j))) - mean) / std;
    INFO("probe example " << j << ": " << data.probe.x(0, j) << ", expected " << expected);
    REQUIRE_THAT(data.probe.x(0, j), WithinAbs(expected, 1e-12));
  }
}

TEST_CASE("bad csv files and columns are reported with file, JSON path and line", "[data]") {
  CsvFixture f;
  struct BadCsv {
    std::string what;
    std::string content;    // written to bad.csv (unless the case points data.path elsewhere)
    std::string json_path;  // "": the error names the data file; else the config and this path
    std::string fragment;
    std::function<void(DataConfig&)> adjust = [](DataConfig&) {};
  };
  const std::string header = "x1,x2,label\n";

  const std::vector<BadCsv> cases = {
      {"ragged row", header + "1,2,0\n3,4\n", "", "line 3: expected 3 fields, got 2"},
      {"long row", header + "1,2,0,9\n", "", "line 2: expected 3 fields, got 4"},
      {"NaN", header + "1,2,0\n1,nan,1\n", "", "line 3, column \"x2\": NaN or Inf is not allowed"},
      {"Inf", header + "1,2,0\n-inf,2,1\n", "", "line 3, column \"x1\": NaN or Inf is not allowed"},
      {"not a number", header + "1,2,0\n\n1,abc,1\n", "",
       "line 4, column \"x2\": not a number: \"abc\""},
      {"empty cell", header + "1,,0\n1,2,1\n", "", "line 2, column \"x2\": not a number: \"\""},
      {"text column used as a feature", "name,x1,label\nfoo,1,0\nbar,2,1\n", "",
       "line 2, column \"name\": not a number: \"foo\""},
      {"negative label", header + "1,2,0\n1,2,-1\n", "",
       "line 3, column \"label\": class label must be an integer >= 0, got \"-1\""},
      {"fractional label", header + "1,2,1.5\n1,2,0\n", "",
       "line 2, column \"label\": class label must be an integer >= 0, got \"1.5\""},
      {"huge label", header + "1,2,1e9\n1,2,0\n", "", "class label \"1e9\" is too large"},
      {"one class", header + "1,2,0\n3,4,0\n", "", "column \"label\" has only class 0"},
      {"header only", header, "", "no data rows after the header"},
      {"empty file", "", "", "the file is empty"},
      {"blank lines only", "\n  \n", "", "the file is empty"},
      {"duplicate column", "x1,x1,label\n1,2,0\n", "", "column name \"x1\" appears twice"},
      {"too few rows", header + "1,2,0\n1,2,1\n1,2,0\n", "",
       "3 data rows, but at least probe_size + 1 = 4", [](DataConfig& d) { d.probe_size = 3; }},
      {"unknown label column", header + "1,2,0\n1,2,1\n", "/data/label_column",
       "unknown column \"lable\"; the header of " + f.dir.file("bad.csv") +
           " has \"x1\", \"x2\", \"label\"",
       [](DataConfig& d) { d.label_column = "lable"; }},
      {"unknown feature column", header + "1,2,0\n1,2,1\n", "/data/feature_columns/1",
       "unknown column \"x9\"",
       [](DataConfig& d) {
         d.feature_columns = {"x1", "x9"};
       }},
      {"label used as a feature", header + "1,2,0\n1,2,1\n", "/data/feature_columns/0",
       "column \"label\" is already a label/target",
       [](DataConfig& d) { d.feature_columns = {"label"}; }},
      {"regression without targets", header + "1,2,0\n1,2,1\n", "/data/target_columns",
       "needs label_column (classification) or target_columns (regression)",
       [](DataConfig& d) { d.label_column.clear(); }},
      {"missing file", "", "/data/path",
       "cannot read " + f.dir.file("missing.csv") + ": No such file or directory",
       [](DataConfig& d) { d.path = "missing.csv"; }},
      {"a folder", "", "/data/path", "cannot read ", [](DataConfig& d) { d.path = "sub"; }},
  };
  std::filesystem::create_directories(f.dir.path / "sub");

  for (const BadCsv& c : cases) {
    const std::string file = f.write("bad.csv", c.content);
    DataConfig d = csv_config("bad.csv");
    d.label_column = "label";
    d.probe_size = 1;
    c.adjust(d);
    std::string message = "(no error)", where, path;
    try {
      make_dataset(d, 1, f.config);
    } catch (const InputError& e) {
      message = e.what();
      where = e.where();
      path = e.path();
    }
    INFO(c.what << ": " << message << " [where " << where << ", path " << path << "]");
    REQUIRE_THAT(message, Catch::Matchers::Contains(c.fragment));
    REQUIRE(where == (c.json_path.empty() ? file : f.config));
    REQUIRE(path == c.json_path);
  }
}
