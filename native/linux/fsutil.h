// Small file helpers for the Linux platform code: open once, re-read with pread, parse.
//
// Threads: OpenRead/ReadText/ListDir run on the JavaScript thread (discovery). Fd::Pread and the
// parsers run under Sampler::read_mu_ (sampling thread or JS thread). No locks here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace let {

// An owned file descriptor, closed by the destructor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Give up ownership: the caller closes the returned descriptor.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // pread(2) retried on EINTR. Returns bytes read or -1 (errno set).
  ssize_t Pread(void* buf, size_t n, off_t off) const;

 private:
  int fd_ = -1;
};

// open(path, O_RDONLY | O_CLOEXEC). With `simulate_unprivileged` (the LET_TEST_UNPRIVILEGED test
// hook), a file whose mode lacks the "other" read bit fails with EACCES first, as it would for
// a user who is neither the owner nor in the group. Returns an invalid Fd with errno set.
Fd OpenRead(const std::string& path, bool simulate_unprivileged);

// Whole small file as text (up to 64 KiB); false on failure (errno set).
bool ReadText(const std::string& path, std::string* out, bool simulate_unprivileged = false);
// First line of a small file, trimmed.
bool ReadLine(const std::string& path, std::string* out, bool simulate_unprivileged = false);
// Entry names of a directory (no . and ..), sorted; empty when missing.
std::vector<std::string> ListDir(const std::string& path);
bool Exists(const std::string& path);
bool IsDir(const std::string& path);
// realpath(3), or the path itself when it fails.
std::string RealPath(const std::string& path);

// A decimal unsigned integer terminated by '\n' (sysfs style). Rejects an empty buffer, a
// missing newline (a half-written value), non-digits and overflow.
bool ParseU64Line(const char* buf, size_t n, uint64_t* out);
// A decimal unsigned integer with optional surrounding whitespace.
bool ParseU64(const std::string& s, uint64_t* out);

std::string Trim(const std::string& s);
std::string ErrnoText(int err);

}  // namespace let
