// See fsutil.h.
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace let {

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

ssize_t Fd::Pread(void* buf, size_t n, off_t off) const {
  for (;;) {
    const ssize_t r = ::pread(fd_, buf, n, off);
    if (r >= 0 || errno != EINTR) return r;
  }
}

Fd OpenRead(const std::string& path, bool simulate_unprivileged) {
  if (simulate_unprivileged) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Fd();
    if (!S_ISDIR(st.st_mode) && (st.st_mode & S_IROTH) == 0) {
      errno = EACCES;
      return Fd();
    }
  }
  return Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

bool ReadText(const std::string& path, std::string* out, bool simulate_unprivileged) {
  Fd fd = OpenRead(path, simulate_unprivileged);
  if (!fd.valid()) return false;
  out->clear();
  char buf[4096];
  off_t off = 0;
  while (out->size() < 65536) {
    const ssize_t r = fd.Pread(buf, sizeof buf, off);
    if (r < 0) return false;
    if (r == 0) break;
    out->append(buf, static_cast<size_t>(r));
    off += r;
  }
  return true;
}

bool ReadLine(const std::string& path, std::string* out, bool simulate_unprivileged) {
  std::string text;
  if (!ReadText(path, &text, simulate_unprivileged)) return false;
  const size_t nl = text.find('\n');
  *out = Trim(nl == std::string::npos ? text : text.substr(0, nl));
  return true;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return path;
  return buf;
}

bool ParseU64Line(const char* buf, size_t n, uint64_t* out) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (buf[i] == ' ' || buf[i] == '\t')) ++i;
  const size_t start = i;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    const uint64_t d = static_cast<uint64_t>(buf[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (i == start || i >= n || buf[i] != '\n') return false;
  *out = v;
  return true;
}

bool ParseU64(const std::string& s, uint64_t* out) {
  const std::string t = Trim(s) + "\n";
  return ParseU64Line(t.data(), t.size(), out);
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string ErrnoText(int err) {
  char buf[128];
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return std::string(strerror_r(err, buf, sizeof buf));
#else
  if (strerror_r(err, buf, sizeof buf) != 0) return "errno " + std::to_string(err);
  return buf;
#endif
}

}  // namespace let
