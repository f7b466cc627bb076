// Atomic file writes: content goes to a temp file beside the target and is renamed over it
// only when complete, so a reader (or a resumed sweep) never sees a half-written file.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace gradflow {

// Streams into "<path>.tmp.<pid>"; commit() flushes, fsyncs and renames onto `path`.
// Destroyed without commit() (an exception, an interrupt), it removes the temp file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view text);
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
};

// Whole-content convenience.
void write_file_atomic(const std::string& path, std::string_view content);

// Creates `dir` and its parents; throws InputError naming the folder if that fails or the
// folder is not writable.
void ensure_writable_dir(const std::string& dir);

}  // namespace gradflow
