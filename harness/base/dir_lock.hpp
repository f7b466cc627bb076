// An exclusive lock on an output folder, so two gradflow processes never interleave their
// writes into one sweep. Held for the object's lifetime; released by the kernel if the process
// dies (flock), so a kill -9 never leaves a stale lock.
#pragma once

#include <string>

namespace gradflow {

class DirLock {
 public:
  // Throws InputError naming the folder when another process holds the lock.
  explicit DirLock(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace gradflow
