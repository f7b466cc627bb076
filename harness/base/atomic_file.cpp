// Temp-file-and-rename writes; see atomic_file.hpp.
#include "base/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/errors.hpp"

namespace gradflow {
namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp." + std::to_string(::getpid())) {
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) throw InputError(temp_path_, "", "cannot create file: " + errno_text());
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    std::remove(temp_path_.c_str());
  }
}

void AtomicFile::write(std::string_view text) {
  GF_ASSERT(file_ != nullptr);
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size())
    throw InputError(temp_path_, "", "write failed: " + errno_text());
}

void AtomicFile::commit() {
  GF_ASSERT(file_ != nullptr);
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const int saved_errno = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    std::remove(temp_path_.c_str());
    errno = flushed ? errno : saved_errno;
    throw InputError(path_, "", "write failed: " + errno_text());
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const std::string reason = errno_text();
    std::remove(temp_path_.c_str());
    throw InputError(path_, "", "cannot rename temp file into place: " + reason);
  }
}

void write_file_atomic(const std::string& path, std::string_view content) {
  AtomicFile file(path);
  file.write(content);
  file.commit();
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(dir, "", "cannot create output folder: " + ec.message());
  if (!std::filesystem::is_directory(dir))
    throw InputError(dir, "", "output path exists and is not a folder");
  if (::access(dir.c_str(), W_OK) != 0)
    throw InputError(dir, "", "output folder is not writable: " + errno_text());
}

}  // namespace gradflow
