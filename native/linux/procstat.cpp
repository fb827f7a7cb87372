// CPU time counters for attribution and the load model: <root>/proc/stat (machine) and
// <root>/proc/<pid>/stat (the attribution process, optionally with its live descendants, which
// proctree.h follows incrementally). Each is read only when the sample asks for it.
// Construction on the JS thread; Read() under Sampler::read_mu_ (sampling or JS thread).
#include <unistd.h>

#include <cstring>
#include <memory>

#include "../platform.h"
#include "../sampler.h"
#include "fsutil.h"
#include "proctree.h"

namespace let {

namespace {

class LinuxCpuTimes final : public CpuTimesReader {
 public:
  explicit LinuxCpuTimes(const SamplerOptions& o) : o_(o) {
    stat_ = OpenRead(JoinRoot(o.hardware_root, "proc/stat"), false);
    pid_ = o.attribution_pid;
    if (pid_ == 0) {
      // proc/self of the hardware root: a symlink to the pid directory (our own on a real root).
      char link[64] = {0};
      const ssize_t r = ::readlink(JoinRoot(o.hardware_root, "proc/self").c_str(), link, sizeof link - 1);
      uint64_t v = 0;
      if (r > 0 && ParseU64(std::string(link, static_cast<size_t>(r)), &v)) pid_ = static_cast<int>(v);
      self_ = OpenRead(JoinRoot(o.hardware_root, "proc/self/stat"), false);
    } else {
      self_ = OpenRead(JoinRoot(o.hardware_root, "proc/" + std::to_string(pid_) + "/stat"), false);
    }
    if (o.include_descendants && pid_ > 0) tree_ = std::make_unique<ProcessTree>(o.hardware_root, pid_);
    hz_ = static_cast<uint64_t>(sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100);
    // Logical CPUs: cpuN lines of proc/stat, counted once.
    std::string text;
    if (ReadText(JoinRoot(o.hardware_root, "proc/stat"), &text)) {
      size_t pos = 0;
      while ((pos = text.find("\ncpu", pos)) != std::string::npos) {
        pos += 4;
        if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++cpus_;
      }
    }
  }

  void Read(CpuRaw* out, bool machine, bool process, bool fresh) override {
    out->hz = hz_;
    out->logical_cpus = cpus_;
    if (machine) {
      uint64_t total = 0, busy = 0;
      out->available = ReadMachine(&total, &busy);
      if (!out->available) return;
      out->machine_total = total;
      out->machine_busy = busy;
    }
    uint64_t proc = 0;
    if (process && ReadProcess(&proc, fresh)) out->process = proc;  // else keep the last value (process gone)
  }

  int OpenFiles() const override {
    return (stat_.valid() ? 1 : 0) + (self_.valid() ? 1 : 0) + (tree_ ? tree_->OpenFiles() : 0);
  }

 private:
  bool ReadMachine(uint64_t* total, uint64_t* busy) {
    if (!stat_.valid()) return false;
    char buf[512];
    const ssize_t r = stat_.Pread(buf, sizeof buf, 0);
    if (r < 5 || std::memcmp(buf, "cpu ", 4) != 0) return false;
    const char* p = buf + 4;
    const char* end = buf + r;
    uint64_t f[10] = {0};
    int k = 0;
    while (p < end && *p != '\n' && k < 10) {
      while (p < end && *p == ' ') ++p;
      if (p >= end || *p < '0' || *p > '9') break;
      uint64_t v = 0;
      while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
      f[k++] = v;
    }
    if (k < 4) return false;
    uint64_t sum = 0;
    for (int i = 0; i < k; ++i) sum += f[i];
    *total = sum;
    const uint64_t idle = f[3] + f[4];
    *busy = sum >= idle ? sum - idle : 0;
    return true;
  }

  // The process and its reaped children (cutime/cstime): a child that ran and was waited for
  // between two samples is still charged; with descendants, the live tree too (`fresh`: a
  // fresh read, which re-reads every member of the tree).
  bool ReadProcess(uint64_t* out, bool fresh) {
    ProcStat st;
    if (!self_.valid() || !ReadStatFd(self_, &st)) return false;
    *out = tree_ ? tree_->Sum(st, MonotonicNs(), fresh) : st.own + st.children;
    return true;
  }

  SamplerOptions o_;
  Fd stat_, self_;
  std::unique_ptr<ProcessTree> tree_;
  int pid_ = 0;
  int cpus_ = 0;
  uint64_t hz_ = 100;
};

}  // namespace

std::unique_ptr<CpuTimesReader> MakeCpuTimesReader(const SamplerOptions& options) {
  return std::make_unique<LinuxCpuTimes>(options);
}

}  // namespace let
