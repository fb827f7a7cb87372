// Keeps the prebuild loadable on older glibc (see scripts/glibc-floor.sh and bench/RESULTS.md).
//
// The addon links libstdc++ statically so that it does not depend on the build machine's C++
// runtime. libstdc++.a's random.o (std::random_device, never used by this addon but pulled in
// by its string and exception code) references arc4random, which glibc added only in 2.36.
// That single reference would raise the prebuild's glibc floor from 2.35 to 2.36 and stop it
// from loading on Ubuntu 22.04 and other glibc 2.35 systems. Defining arc4random here, hidden
// inside the addon, satisfies the reference without glibc's versioned symbol.
//
// Any thread may call it (it never is, in practice); it takes no lock.
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value = 0;
  unsigned char* bytes = reinterpret_cast<unsigned char*>(&value);
  size_t filled = 0;
  while (filled < sizeof value) {
    // getrandom(2) through syscall(): the libc wrapper is glibc 2.25+, the syscall Linux 3.17+.
    const long got = syscall(SYS_getrandom, bytes + filled, sizeof value - filled, 0);
    if (got > 0) {
      filled += static_cast<size_t>(got);
    } else if (got < 0 && errno != EINTR) {
      const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      const ssize_t r = read(fd, bytes + filled, sizeof value - filled);
      close(fd);
      if (r <= 0) break;
      filled += static_cast<size_t>(r);
    }
  }
  return value;
}
