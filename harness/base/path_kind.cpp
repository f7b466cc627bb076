// Path classification without opening; see path_kind.hpp.
#include "base/path_kind.hpp"

#include <filesystem>
#include <system_error>

namespace gradflow {
namespace fs = std::filesystem;

PathInfo inspect_path(const std::string& path) {
  PathInfo info;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  switch (st.type()) {
    case fs::file_type::not_found:
      info.kind = PathKind::missing;
      return info;
    case fs::file_type::regular:
      info.kind = PathKind::regular;
      info.size = fs::file_size(path, ec);
      if (ec) info.size = 0;
      return info;
    case fs::file_type::directory:
      info.kind = PathKind::folder;
      return info;
    case fs::file_type::fifo:
      info.kind = PathKind::other;
      info.detail = "a FIFO (named pipe)";
      return info;
    case fs::file_type::character:
      info.kind = PathKind::other;
      info.detail = "a character device";
      return info;
    case fs::file_type::block:
      info.kind = PathKind::other;
      info.detail = "a block device";
      return info;
    case fs::file_type::socket:
      info.kind = PathKind::other;
      info.detail = "a socket";
      return info;
    default:
      break;
  }
  if (ec) {  // ELOOP, EACCES on a parent folder, ENAMETOOLONG, ENOTDIR ...
    info.kind = ec == std::errc::no_such_file_or_directory ? PathKind::missing
                                                           : PathKind::unreadable;
    info.detail = ec.message();
    return info;
  }
  info.kind = PathKind::other;
  info.detail = "not a regular file or folder";
  return info;
}

std::string regular_file_problem(const PathInfo& info) {
  switch (info.kind) {
    case PathKind::regular:
      return {};
    case PathKind::missing:
      return "No such file or directory";
    case PathKind::folder:
      return "it is a folder, not a file";
    case PathKind::other:
      return "it is " + info.detail + ", not a regular file";
    case PathKind::unreadable:
      return info.detail;
  }
  return "cannot be inspected";
}

std::string folder_problem(const PathInfo& info) {
  switch (info.kind) {
    case PathKind::folder:
      return {};
    case PathKind::missing:
      return "No such file or directory";
    case PathKind::regular:
      return "it is a file, not a folder";
    case PathKind::other:
      return "it is " + info.detail + ", not a folder";
    case PathKind::unreadable:
      return info.detail;
  }
  return "cannot be inspected";
}

}  // namespace gradflow
