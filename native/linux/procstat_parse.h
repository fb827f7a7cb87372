// Parsing of <root>/proc/<pid>/stat: the fields the CPU-time reader and the process tree use.
//
// Threads: called under Sampler::read_mu_ (sampling thread or JavaScript thread); no state.
// Header-only (included by native/linux/proctree.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "fsutil.h"

namespace let {

struct ProcStat {
  int ppid = 0;
  uint64_t own = 0;         // utime + stime
  uint64_t children = 0;    // cutime + cstime (reaped descendants)
  uint64_t start_time = 0;  // tells a reused pid from the process first seen with it
};

// "pid (comm) S ppid … utime stime cutime cstime … starttime": fields after the last ')'.
inline bool ParseProcStat(const char* buf, size_t n, ProcStat* out) {
  const char* end = buf + n;
  const char* p = nullptr;
  for (const char* q = buf; q < end; ++q)
    if (*q == ')') p = q;
  if (p == nullptr) return false;
  ++p;
  uint64_t fields[20] = {0};
  int k = 0;  // k = 0 is the state field
  while (p < end && k < 20) {
    while (p < end && *p == ' ') ++p;
    if (p >= end || *p == '\n') break;
    if (k == 0) {
      while (p < end && *p != ' ') ++p;
    } else {
      bool neg = false;
      if (*p == '-') { neg = true; ++p; }
      uint64_t v = 0;
      while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
      fields[k] = neg ? 0 : v;
      while (p < end && *p != ' ' && *p != '\n') ++p;
    }
    ++k;
  }
  if (k < 15) return false;
  out->ppid = static_cast<int>(fields[1]);
  out->own = fields[11] + fields[12];
  out->children = fields[13] + fields[14];
  out->start_time = fields[19];
  return true;
}

inline bool ReadStatFd(const Fd& fd, ProcStat* st) {
  char buf[1024];
  const ssize_t r = fd.Pread(buf, sizeof buf, 0);
  return r > 0 && ParseProcStat(buf, static_cast<size_t>(r), st);
}

inline bool ReadStatPath(const std::string& path, ProcStat* st) {
  Fd fd = OpenRead(path, false);
  return fd.valid() && ReadStatFd(fd, st);
}

}  // namespace let
