// Linux part of the store's lock (see native/file_lock.h): an exclusive open-file-description
// lock (fcntl F_OFD_SETLK, Linux 3.15+) on a regular lock file that is never deleted.
//
// Why this kind of lock: it belongs to the open file description, not to the process, so two
// descriptors of one process (two workers, or a re-entrant call) exclude each other, and
// closing an unrelated descriptor of the same file does not drop it (a POSIX record lock would
// be dropped). The kernel releases it when the descriptor is closed or the process ends in any
// way (SIGKILL included), so a dead holder never needs a stale-time guess; and nothing can
// break it while the holder lives (SIGSTOP, a slow disk). Over NFS the kernel forwards it to
// the server's lock manager. F_OFD_SETLKW (the blocking form) is not used: a blocked call
// cannot be interrupted from JavaScript, so the caller polls with F_OFD_SETLK and a timeout.
//
// Threads: every function runs on the JavaScript thread of the calling env; no locks, no state.
#include "../file_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "fsutil.h"

namespace let {

namespace {

const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

LockAttempt Fail(const char* step, int err) {
  LockAttempt a;
  a.kind = LockAttempt::kError;
  a.step = step;
  a.err = err;
  return a;
}

LockAttempt NotRegular(mode_t mode) {
  LockAttempt a;
  a.kind = LockAttempt::kError;
  a.step = "check";
  a.what = FileKind(mode);
  return a;
}

// A lock file created by root (a run under `sudo -E` to read RAPL) goes to the owner of its
// directory, so that the user's own later runs can open it for writing. Best effort.
void GiveToDirectoryOwner(int fd, const std::string& path) {
  if (::geteuid() != 0) return;
  std::string copy = path;
  struct stat dir;
  if (::stat(::dirname(&copy[0]), &dir) != 0) return;
  if (dir.st_uid == 0 && dir.st_gid == 0) return;
  if (::fchown(fd, dir.st_uid, dir.st_gid) != 0) return;
}

}  // namespace

bool FileLockSupported() { return true; }

LockAttempt FileLockTry(const std::string& path, const std::string& holder) {
  // Look before opening: opening a device or a FIFO can have effects of its own. fstat below
  // checks again what was actually opened (the path may change in between).
  struct stat before;
  if (::lstat(path.c_str(), &before) == 0 && !S_ISREG(before.st_mode)) return NotRegular(before.st_mode);
  const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  bool created = true;
  // 0666 less the umask, as the store file itself: a group sharing the store (umask 002) can lock it.
  int raw = ::open(path.c_str(), flags | O_CREAT | O_EXCL, 0666);
  if (raw < 0 && errno == EEXIST) {
    created = false;
    raw = ::open(path.c_str(), flags);
  }
  if (raw < 0) {
    const int err = errno;
    if (err == ELOOP) return NotRegular(S_IFLNK);
    return Fail("open", err);
  }
  Fd fd(raw);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Fail("fstat", errno);
  if (!S_ISREG(st.st_mode)) return NotRegular(st.st_mode);
  if (created) GiveToDirectoryOwner(fd.get(), path);

  struct flock fl;
  std::memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;  // the whole file, however long
  fl.l_pid = 0;  // required for OFD locks
  if (::fcntl(fd.get(), F_OFD_SETLK, &fl) != 0) {
    const int err = errno;
    LockAttempt a;
    if (err == EAGAIN || err == EACCES || err == EINTR) {
      a.kind = LockAttempt::kBusy;
      return a;
    }
    return Fail("fcntl(F_OFD_SETLK)", err);
  }
  // Held. If the file was removed or replaced by hand between open and lock, another writer
  // may lock the new file: report busy (the descriptor is closed), the caller tries again.
  if (!FileLockStillNamed(fd.get(), path)) {
    LockAttempt a;
    a.kind = LockAttempt::kBusy;
    return a;
  }
  // Name the holder for waiters. Written before the truncation, so a reader never sees an
  // empty file in between; failures (a full disk) only cost the name.
  const ssize_t n = ::pwrite(fd.get(), holder.data(), holder.size(), 0);
  if (n == static_cast<ssize_t>(holder.size()) && st.st_size > n) {
    if (::ftruncate(fd.get(), n) != 0) {
      // Keep the lock: the trailing bytes of an earlier, longer holder text are ignored.
    }
  }
  LockAttempt a;
  a.kind = LockAttempt::kHeld;
  a.fd = fd.Release();
  return a;
}

void FileLockRelease(int fd) {
  if (fd < 0) return;
  // Empty the holder text first: a non-empty lock file means "held, or its holder died
  // holding it", which the lock-file fallback of another install checks (lib/store/lock.ts).
  if (::ftruncate(fd, 0) != 0) {
    // Nothing to do: the lock is released by close below all the same.
  }
  ::close(fd);  // drops the open file description, and with it the lock
}

std::string FileLockHolder(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::string();
  char buf[4096];
  const ssize_t n = fd.Pread(buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool FileLockStillNamed(int fd, const std::string& path) {
  struct stat held, named;
  if (::fstat(fd, &held) != 0 || ::lstat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

}  // namespace let
