// Classifying an input path before opening it: opening a FIFO blocks until a writer comes, a
// device never ends, a folder only fails at the first read, and a symlink loop or a permission
// problem must become a message naming the path rather than a library exception.
#pragma once

#include <cstdint>
#include <string>

namespace gradflow {

enum class PathKind { missing, regular, folder, other, unreadable };

struct PathInfo {
  PathKind kind = PathKind::missing;
  std::uintmax_t size = 0;  // regular files
  std::string detail;       // other: "a FIFO (named pipe)", "a character device", ...;
                            // unreadable: the system's reason ("Too many levels of symbolic links")
};

// stat(2) through symlinks; never opens the path and never throws.
PathInfo inspect_path(const std::string& path);

// Why the path cannot be read as a regular file, to follow "cannot read <path>: " ("No such
// file or directory", "it is a folder, not a file", "it is a FIFO (named pipe), not a regular
// file", "Too many levels of symbolic links"); empty when it is a regular file.
std::string regular_file_problem(const PathInfo& info);

// The same for a folder ("it is a file, not a folder", ...); empty when it is one.
std::string folder_problem(const PathInfo& info);

}  // namespace gradflow
