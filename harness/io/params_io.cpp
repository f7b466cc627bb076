// Saving and loading parameter folders; see params_io.hpp.
#include "io/params_io.hpp"

#include <filesystem>

#include "base/atomic_file.hpp"
#include "base/errors.hpp"
#include "base/npy.hpp"
#include "base/path_kind.hpp"

namespace gradflow {
namespace {

std::string tensor_path(const std::string& folder, char kind, long layer) {
  return (std::filesystem::path(folder) / (std::string(1, kind) + std::to_string(layer) + ".npy"))
      .string();
}

std::string shape_text(long rows, long cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

}  // namespace

void save_parameters(const std::string& folder, const Parameters& p) {
  ensure_writable_dir(folder);
  for (std::size_t l = 0; l < p.w.size(); ++l) {
    write_npy(tensor_path(folder, 'W', long(l + 1)), p.w[l], false);
    write_npy(tensor_path(folder, 'b', long(l + 1)), p.b[l], true);
  }
}

Parameters load_parameters(const std::string& folder, const MlpLayout& layout,
                           const std::string& config_source) {
  // Classified without throwing: a symlink loop or an unreadable parent is a message too.
  if (const std::string problem = folder_problem(inspect_path(folder)); !problem.empty())
    throw InputError(config_source, "/model/init_from",
                     "expected a folder of .npy parameters (W1.npy, b1.npy, ...), got \"" +
                         folder + "\": " + problem);
  Parameters p;
  for (long l = 0; l < layout.num_layers(); ++l) {
    const LayerShape& s = layout.layers[std::size_t(l)];
    const std::string wpath = tensor_path(folder, 'W', l + 1);
    const std::string bpath = tensor_path(folder, 'b', l + 1);
    for (const std::string& path : {wpath, bpath})
      if (inspect_path(path).kind == PathKind::missing)
        throw InputError(config_source, "/model/init_from",
                         "missing " + path + " (the network has " +
                             std::to_string(layout.num_layers()) + " layers)");
    // A file larger than its layer's array (plus a generous header) is refused unread.
    constexpr std::uintmax_t kHeader = 1 << 20;
    MatD w = read_npy(wpath, kHeader + 8 * std::uintmax_t(s.fan_out) * std::uintmax_t(s.fan_in));
    MatD b = read_npy(bpath, kHeader + 8 * std::uintmax_t(s.fan_out));
    if (w.rows() != s.fan_out || w.cols() != s.fan_in)
      throw InputError(config_source, "/model/init_from",
                       wpath + ": expected shape " + shape_text(s.fan_out, s.fan_in) + ", got " +
                           shape_text(w.rows(), w.cols()));
    if (b.rows() != s.fan_out || b.cols() != 1)
      throw InputError(config_source, "/model/init_from",
                       bpath + ": expected shape (" + std::to_string(s.fan_out) + ",), got " +
                           shape_text(b.rows(), b.cols()));
    if (!w.allFinite() || !b.allFinite())
      throw InputError(config_source, "/model/init_from",
                       "layer " + std::to_string(l + 1) + " contains NaN or Inf");
    p.w.push_back(std::move(w));
    p.b.push_back(VecD(b.col(0)));
  }
  const std::string extra = tensor_path(folder, 'W', layout.num_layers() + 1);
  if (inspect_path(extra).kind != PathKind::missing)
    throw InputError(config_source, "/model/init_from",
                     "found " + extra + ", but the network has only " +
                         std::to_string(layout.num_layers()) +
                         " layers (depth hidden layers + the output layer)");
  return p;
}

}  // namespace gradflow
