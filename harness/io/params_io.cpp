// Saving and loading parameter folders; see params_io.hpp.
#include "io/params_io.hpp"

#include <filesystem>
#include <set>

#include "base/atomic_file.hpp"
#include "base/errors.hpp"
#include "base/npy.hpp"
#include "base/path_kind.hpp"

namespace gradflow {
namespace {

std::string tensor_path(const std::string& folder, const std::string& name) {
  return (std::filesystem::path(folder) / (name + ".npy")).string();
}

std::string shape_text(const ParamTensor& t) {
  return t.cols == 1 && t.name[0] != 'W' && t.name[0] != 'P'
             ? "(" + std::to_string(t.rows) + ",)"
             : "(" + std::to_string(t.rows) + ", " + std::to_string(t.cols) + ")";
}

bool is_vector(const ParamTensor& t) { return t.name[0] != 'W' && t.name[0] != 'P'; }

}  // namespace

void save_parameters(const std::string& folder, const NetworkLayout& layout, const Parameters& p) {
  ensure_writable_dir(folder);
  for (std::size_t t = 0; t < layout.tensors.size(); ++t)
    write_npy(tensor_path(folder, layout.tensors[t].name), p.tensors[t],
              is_vector(layout.tensors[t]));
}

Parameters load_parameters(const std::string& folder, const NetworkLayout& layout,
                           const std::string& config_source) {
  // Classified without throwing: a symlink loop or an unreadable parent is a message too.
  if (const std::string problem = folder_problem(inspect_path(folder)); !problem.empty())
    throw InputError(config_source, "/model/init_from",
                     "expected a folder of .npy parameters (W1.npy, b1.npy, ...), got \"" +
                         folder + "\": " + problem);
  const std::string count = std::to_string(layout.tensors.size()) + " tensors";
  Parameters p;
  std::set<std::string> expected;
  for (const ParamTensor& t : layout.tensors) {
    expected.insert(t.name + ".npy");
    const std::string path = tensor_path(folder, t.name);
    if (inspect_path(path).kind == PathKind::missing)
      throw InputError(config_source, "/model/init_from",
                       "missing " + path + " (the network has " + count + ": " +
                           layout.tensors.front().name + ".npy ... " +
                           layout.tensors.back().name + ".npy, docs/output.md)");
    // A file larger than its tensor's array (plus a generous header) is refused unread.
    constexpr std::uintmax_t kHeader = 1 << 20;
    MatD m = read_npy(path, kHeader + 8 * std::uintmax_t(t.size()));
    if (m.rows() != t.rows || m.cols() != t.cols)
      throw InputError(config_source, "/model/init_from",
                       path + ": expected shape " + shape_text(t) + ", got (" +
                           std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + ")");
    if (!m.allFinite())
      throw InputError(config_source, "/model/init_from", path + " contains NaN or Inf");
    p.tensors.push_back(std::move(m));
  }
  // A tensor this network does not have means the folder is for another network.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".npy" && !expected.count(name))
      throw InputError(config_source, "/model/init_from",
                       "found " + entry.path().string() + ", but the network has no tensor " +
                           entry.path().stem().string() + " (it has " + count +
                           "; names in docs/output.md)");
  }
  return p;
}

}  // namespace gradflow
