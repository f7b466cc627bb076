// The experiment configuration as plain structs, read from JSON and validated in one pass.
// Every key, its default and its constraint are documented in docs/config.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/activation.hpp"
#include "nn/init.hpp"
#include "nn/layers/layer_spec.hpp"

namespace gradflow {

using Json = nlohmann::ordered_json;

enum class Precision { float64, float32 };

enum class DataKind {
  gaussian_mixture,
  spirals,
  teacher_student,
  gaussian_targets,
  csv,
  fashion_mnist,
  idx,
  npy
};
enum class Task { classification, regression };

struct DataConfig {
  DataKind kind = DataKind::gaussian_mixture;
  std::optional<std::uint64_t> seed;  // unset: the run's seed
  long train_size = 2048;
  long probe_size = 512;  // held out; activation statistics are taken on it
  // gaussian_mixture / teacher_student / gaussian_targets
  long dim = 16;
  long classes = 4;          // gaussian_mixture, spirals (2 by default); csv: 0 = the labels present
  double separation = 3.0;   // gaussian_mixture: distance scale of the class means
  double noise = 0.0;        // spirals: point jitter; teacher_student: target noise std
  double turns = 1.5;        // spirals
  long outputs = 1;          // teacher_student, gaussian_targets: target dimension
  long teacher_depth = 2;    // teacher_student
  long teacher_width = 32;
  Activation teacher_activation = Activation::tanh;
  // csv
  std::string path;             // resolved relative to the config file's folder
  std::string label_column;     // classification: integer class labels 0..K-1
  std::vector<std::string> target_columns;  // regression
  std::vector<std::string> feature_columns; // empty: every other column
  bool standardize = true;      // z-score features using training-set statistics
  // fashion_mnist: `path` is the folder of the four IDX files (empty: Debian's package's);
  // idx: `path` the images, `labels_path` the labels; npy: `path` X.npy and one of
  // `labels_path` (N integer labels) or `targets_path` (N x outputs floats)
  std::string labels_path;
  std::string targets_path;
};

// Where Debian's dataset-fashion-mnist installs its files.
inline constexpr const char* kFashionMnistFolder = "/usr/share/datasets/fashion-mnist";

// Data read from files (their shape is known only once read).
inline bool is_file_data(DataKind k) {
  return k == DataKind::csv || k == DataKind::fashion_mnist || k == DataKind::idx ||
         k == DataKind::npy;
}

// model.norm: a normalization after each hidden dense (and model.conv conv) layer, before its
// activation.
enum class Norm { none, batch, layer };

// model.residual: pre-activation blocks of `every` hidden layers (model_layers, in
// config/model_config.hpp, gives the exact expansion).
struct ResidualConfig {
  long every = 1;
  ResidualScale scale = ResidualScale::constant;
  double scale_value = 1.0;  // ResidualScale::constant
};

// model.conv's pooling after every pool_every-th conv.
enum class ConvPool { none, max, avg };

// model.conv: a convolutional stem in front of the dense shorthand stack (the expansion is
// conv_layers in config/conv_config.hpp): for each entry of `channels` a k x k conv2d, [norm],
// activation, a pool after every pool_every-th of them, then flatten (or global_avg_pool).
struct ConvConfig {
  std::vector<long> channels;  // C_out of each conv layer, at least one
  long kernel = 3;
  Padding padding = Padding::same;
  long stride = 1;
  ConvPool pool = ConvPool::none;
  long pool_every = 1;  // pool != none
  long pool_size = 2;   // pool != none: a pool_size x pool_size window, stride pool_size
  bool global_pool = false;  // global_avg_pool instead of flatten before the dense stack
};

// The network's hidden layers: either the shorthand keys (depth ... residual, conv) or an
// explicit `layers` list; model_layers() turns either into the list of LayerSpecs. The init keys apply
// to both.
struct ModelConfig {
  long depth = 4;                  // hidden dense layers, 1..1000 (0..1000 with conv)
  std::vector<long> width = {64};  // one entry, or one per hidden layer
  Activation activation = Activation::relu;  // unused when `prelu`
  double leaky_slope = 0.01;  // leaky_relu
  double elu_alpha = 1.0;     // elu
  // model.activation "prelu" (not one of the fixed Activations): a learnable slope per unit
  // of each hidden layer, all starting at prelu_init (He et al. 2015).
  bool prelu = false;
  double prelu_init = 0.25;
  Norm norm = Norm::none;
  bool norm_affine = true;     // batch, layer: learnable gamma, beta
  double norm_momentum = 0.1;  // batch: running-statistics momentum
  std::optional<ResidualConfig> residual;  // none: a plain MLP
  std::optional<ConvConfig> conv;          // none: no conv layers in front of the dense stack
  // model.layers: an explicit stack; empty when the shorthand keys above describe it (then
  // depth ... residual are what was given or their defaults; with a list, they are unused).
  std::vector<LayerSpec> layers;
  WeightInit init = WeightInit::he_normal;
  double init_std = 0.01;    // init "normal"
  double init_limit = 0.05;  // init "uniform"
  double init_gain = 1.0;    // multiplies xavier_*, he_*, lecun_normal, orthogonal
  BiasInitSpec bias_init;
  std::string init_from;  // folder of .npy parameters; empty: draw from `init`

  ActivationSpec activation_spec() const {
    const double param = activation == Activation::leaky_relu ? leaky_slope
                         : activation == Activation::elu      ? elu_alpha
                                                              : 0.0;
    return {activation, param};
  }
  // He init's gain uses the negative slope: leaky_relu's, or PReLU's initial one.
  WeightInitSpec weight_init_spec() const {
    const double slope = prelu                                  ? prelu_init
                         : activation == Activation::leaky_relu ? leaky_slope
                                                                : 0.0;
    return {init, init_std, init_limit, init_gain, slope};
  }

  long hidden_width(long layer) const {  // layer in [0, depth)
    return width.size() == 1 ? width[0] : width[static_cast<std::size_t>(layer)];
  }
};

enum class Loss { cross_entropy, mse };
enum class Optimizer { sgd, momentum, adam };
enum class Schedule { constant, step, cosine };

struct TrainConfig {
  Loss loss = Loss::cross_entropy;
  Optimizer optimizer = Optimizer::sgd;
  double lr = 0.01;
  double momentum = 0.9;  // momentum
  bool nesterov = false;  // momentum
  double beta1 = 0.9;     // adam
  double beta2 = 0.999;   // adam
  double eps = 1e-8;      // adam
  long steps = 500;
  long batch_size = 64;
  double clip_norm = 0.0;  // global gradient-norm clipping; 0 = off
  Schedule schedule = Schedule::constant;
  long decay_every = 100;     // step: lr *= decay_factor every decay_every steps
  double decay_factor = 0.1;  // step
  double lr_final = 0.0;      // cosine: lr at the last step
};

struct LogConfig {
  long every = 10;           // log at step 0, every `every` steps, and at the last step
  // The probe pass (activation statistics on the probe set) at logged steps that are multiples
  // of this, plus step 0, the last step and a diverged step; 0 = at every logged step. Lets
  // per-step gradient/weight/update norms be logged without a probe forward pass each step.
  long probe_every = 0;
  bool save_params = false;  // params_init/ and params_final/ as .npy
  // When a run diverges, the steps before it that were not logged, up to this many, are
  // written to steps.csv and layers.csv (their gradient columns), so the blow-up is in the
  // results. Kept in a ring buffer allocated before the first step.
  long divergence_window = 20;
  // layers.csv's window_dead_units: units that did not fire on any training example of the
  // last this many steps (keras-contrib's DeadReluDetector counts over an epoch).
  long dead_window = 100;
};

// Thresholds behind each run's verdict (analysis only: they never change training).
struct VerdictConfig {
  double vanishing_decades = 3.0;  // first-layer grad_w_norm > 10^3 x below the last layer's
  double exploding_decades = 3.0;  // ... or > 10^3 x above it
  double exploding_growth = 1e3;   // or the global gradient norm grew 1000x over its init value
  double dying_fraction = 0.5;     // a layer with > 50% of its units dead (see docs/theory.md, Verdicts)
};

struct Config {
  std::string name;  // default: the config file's stem
  std::uint64_t seed = 0;
  Precision precision = Precision::float64;
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  LogConfig log;
  VerdictConfig verdict;
  Json sweep;  // kept verbatim for the sweep module; null when absent
  std::string source;  // the file it came from (for messages), not part of the config
  std::string base_dir;  // folder that relative paths in the config are resolved against
};

// Parses and validates `doc`, which came from `source` (a file path, used in every message).
// Throws InputError naming the JSON path, what was expected and what was found; unknown keys
// are errors with a did-you-mean suggestion. Defaults fill every key not given.
Config parse_config(const Json& doc, const std::string& source);

// Reads a JSON file (malformed JSON reports line and column) and parses it.
Json read_json_file(const std::string& path);
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Applies "dotted.key=value" to `doc` (value parsed as JSON, else taken as a string).
void apply_override(Json& doc, const std::string& assignment);

// Dotted keys ("model.bias_init"), shared by --set and the sweep grid.
std::vector<std::string> split_dotted(std::string_view key);
// Why `key` cannot be set in `doc` ("" when it can): missing or null objects on the way would
// be created; an empty segment, a key deeper than the JSON limit, or a non-object on the way
// is a problem, described for the user.
std::string dotted_key_problem(const Json& doc, std::string_view key);
// Sets `doc` at `key`, creating missing objects on the way; the key must have no problem.
void set_dotted(Json& doc, std::string_view key, const Json& value);

// The verdict thresholds as the config's "verdict" object, and back (a recorded config's or
// sweep.json's; `source` names the file in messages). Throws InputError like parse_config.
Json verdict_to_json(const VerdictConfig& v);
VerdictConfig verdict_from_json(const Json& verdict, const std::string& source);

// The resolved config with every default filled in (parse_config(to_json(c)) == c).
Json to_json(const Config& c);

// Names for the closed sets (error messages list them).
std::string_view precision_name(Precision p);
std::string_view data_kind_name(DataKind k);
std::string_view loss_name(Loss l);
std::string_view optimizer_name(Optimizer o);
std::string_view schedule_name(Schedule s);

// Task implied by the data kind (csv: label_column set -> classification).
Task data_task(const DataConfig& d);

}  // namespace gradflow
