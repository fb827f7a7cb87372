// The machine's available memory for the record's RAM in use: MemAvailable of /proc/meminfo,
// what os.freemem() returns (the real /proc, not the hardware root, as os.totalmem() gives the
// record's total). The file is opened on the first read and re-read with pread: one read of
// the kernel's text, without the open and close that os.freemem() pays each time.
// Construction on the JS thread; Read under Sampler::read_mu_ (JS thread). No lock here.
#include <cstring>
#include <memory>

#include "../platform.h"
#include "fsutil.h"

namespace let {

namespace {

class LinuxMemory final : public MemoryReader {
 public:
  bool ReadAvailableBytes(uint64_t* out) override {
    if (!fd_.valid()) {
      if (failed_) return false;
      fd_ = OpenRead("/proc/meminfo", false);
      if (!fd_.valid()) {
        failed_ = true;  // os.freemem() then answers (sysinfo's free RAM, as libuv falls back)
        return false;
      }
    }
    char buf[4096];
    const ssize_t n = fd_.Pread(buf, sizeof buf - 1, 0);
    if (n <= 0) return false;
    buf[n] = '\0';
    const char* line = std::strstr(buf, "\nMemAvailable:");
    if (line == nullptr) return false;
    const char* p = line + std::strlen("\nMemAvailable:");
    while (*p == ' ') ++p;
    uint64_t kib = 0;
    const char* digits = p;
    while (*p >= '0' && *p <= '9') kib = kib * 10 + static_cast<uint64_t>(*p++ - '0');
    if (p == digits || std::strncmp(p, " kB", 3) != 0) return false;
    *out = kib * 1024;
    return true;
  }
  int OpenFiles() const override { return fd_.valid() ? 1 : 0; }

 private:
  Fd fd_;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<MemoryReader> MakeMemoryReader() { return std::make_unique<LinuxMemory>(); }

}  // namespace let
