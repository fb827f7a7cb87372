// Platforms without open-file-description locks: the lock is reported as unsupported and the
// TypeScript layer uses its lock-file fallback (lib/store/lock-fallback.ts). Runs on the
// JavaScript thread.
#include "../file_lock.h"

namespace let {

bool FileLockSupported() { return false; }

LockAttempt FileLockTry(const std::string&, const std::string&) {
  LockAttempt a;
  a.kind = LockAttempt::kError;
  a.step = "lock";
  a.what = "not supported on this platform";
  return a;
}

void FileLockRelease(int) {}

std::string FileLockHolder(const std::string&) { return std::string(); }

bool FileLockStillNamed(int, const std::string&) { return false; }

}  // namespace let
