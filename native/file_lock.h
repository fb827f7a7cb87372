// Cross-process lock on a lock file: the platform part (native/linux/file_lock.cpp; elsewhere
// native/stub/file_lock_stub.cpp, which reports the lock as unsupported). The Node-API surface
// is native/lock_binding.cpp; the protocol is described in lib/store/lock.ts.
//
// Threads: every function runs on the JavaScript thread of the env that calls it. Nothing here
// keeps state: the caller owns the descriptors (lock_binding.cpp keeps them per env).
#pragma once

#include <string>

namespace let {

// Outcome of one non-blocking attempt.
struct LockAttempt {
  enum Kind { kHeld, kBusy, kError } kind = kError;
  int fd = -1;            // kHeld: the descriptor whose open file description holds the lock
  int err = 0;            // kError: errno, or 0 for "not a regular file"
  std::string step;       // kError: what failed (`open`, `fcntl(F_OFD_SETLK)`, …)
  std::string what;       // kError without errno: what the path is instead of a regular file
};

// Whether this build has a kernel lock (Linux: open-file-description locks).
bool FileLockSupported();

// Open (creating it, mode 0666 less the umask, if missing) the regular file `path` without following a
// symbolic link, and try to take an exclusive lock on it without waiting. On success write
// `holder` into the file (it names the holder for waiters) and return kHeld with the open
// descriptor: the lock lasts until that descriptor is closed (or the process ends, which the
// kernel turns into a release). kBusy: another open file description holds it. A path that is
// not a regular file (FIFO, directory, device, symbolic link) is an error and is never opened
// for writing.
LockAttempt FileLockTry(const std::string& path, const std::string& holder);

// Release: empty the holder text, then close the descriptor returned by FileLockTry.
void FileLockRelease(int fd);

// What the current holder wrote into the lock file (up to 4 KiB), or "" when unreadable.
std::string FileLockHolder(const std::string& path);

// Whether `path` still names the file open as `fd` (not removed or replaced by hand).
bool FileLockStillNamed(int fd, const std::string& path);

}  // namespace let
