// Failure mechanisms: bad user input is an InputError (file, JSON path, what was expected),
// caught only in the CLI; a broken internal invariant is GF_ASSERT, which aborts with file:line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gradflow {

// Bad user input: a config value, a data file, an output folder. `where` is the file (or
// "--set", or a folder), `path` the JSON pointer inside it ("/model/depth"), may be empty.
class InputError : public std::runtime_error {
 public:
  InputError(std::string where, std::string path, std::string message)
      : std::runtime_error(format(where, path, message)),
        where_(std::move(where)),
        path_(std::move(path)),
        message_(std::move(message)) {}

  const std::string& where() const { return where_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

 private:
  static std::string format(const std::string& where, const std::string& path,
                            const std::string& message) {
    std::string text = where;
    if (!path.empty()) text += (text.empty() ? "" : ": ") + path;
    return text.empty() ? message : text + ": " + message;
  }
  std::string where_, path_, message_;
};

[[noreturn]] inline void assertion_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "gradflow: internal error: %s (%s:%d)\n", expr, file, line);
  std::abort();
}

}  // namespace gradflow

// Internal invariants only; never for user input.
#define GF_ASSERT(expr) \
  ((expr) ? (void)0 : ::gradflow::assertion_failed(#expr, __FILE__, __LINE__))
