// CPU time counters for attribution and the load model: <root>/proc/stat (machine) and
// <root>/proc/<pid>/stat (the attribution process, optionally with its live descendants).
// Construction on the JS thread; Read() under Sampler::read_mu_ (sampling or JS thread).
#include <unistd.h>

#include <cstring>
#include <map>
#include <vector>

#include "../platform.h"
#include "fsutil.h"

namespace let {

namespace {

struct ProcStat {
  int ppid = 0;
  uint64_t own = 0;       // utime + stime
  uint64_t children = 0;  // cutime + cstime (reaped descendants)
};

// "pid (comm) S ppid … utime stime cutime cstime …": fields after the last ')'.
bool ParseProcStat(const char* buf, size_t n, ProcStat* out) {
  const char* end = buf + n;
  const char* p = nullptr;
  for (const char* q = buf; q < end; ++q)
    if (*q == ')') p = q;
  if (p == nullptr) return false;
  ++p;
  uint64_t fields[16] = {0};
  int k = 0;  // k = 0 is the state field
  while (p < end && k < 15) {
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
  return true;
}

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

  void Read(CpuRaw* out) override {
    out->hz = hz_;
    out->logical_cpus = cpus_;
    uint64_t total = 0, busy = 0;
    if (!ReadMachine(&total, &busy)) {
      out->available = false;
      return;
    }
    out->available = true;
    out->machine_total = total;
    out->machine_busy = busy;
    uint64_t proc = 0;
    if (ReadProcess(&proc)) out->process = proc;  // else keep the last value (process gone)
  }

  int OpenFiles() const override { return (stat_.valid() ? 1 : 0) + (self_.valid() ? 1 : 0); }

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

  static bool ReadStatFd(const Fd& fd, ProcStat* st) {
    char buf[1024];
    const ssize_t r = fd.Pread(buf, sizeof buf, 0);
    return r > 0 && ParseProcStat(buf, static_cast<size_t>(r), st);
  }

  bool ReadProcess(uint64_t* out) {
    if (!o_.include_descendants) {
      // The process and its reaped children (cutime/cstime): a child that ran and was waited
      // for between two samples is still charged.
      ProcStat st;
      if (!self_.valid() || !ReadStatFd(self_, &st)) return false;
      *out = st.own + st.children;
      return true;
    }
    // Every live process whose ancestry reaches pid_, plus what reaped descendants left in
    // cutime/cstime of the living ones. Costs a /proc scan: only with includeDescendants.
    std::map<int, ProcStat> all;
    const std::string proc = JoinRoot(o_.hardware_root, "proc");
    for (const std::string& e : ListDir(proc)) {
      if (e.empty() || e[0] < '0' || e[0] > '9') continue;
      uint64_t pid;
      if (!ParseU64(e, &pid)) continue;
      Fd fd = OpenRead(proc + "/" + e + "/stat", false);
      ProcStat st;
      if (fd.valid() && ReadStatFd(fd, &st)) all[static_cast<int>(pid)] = st;
    }
    if (all.find(pid_) == all.end()) return false;
    uint64_t sum = 0;
    for (const auto& kv : all) {
      int p = kv.first;
      for (int depth = 0; depth < 4096 && p > 0; ++depth) {
        if (p == pid_) {
          sum += kv.second.own + kv.second.children;
          break;
        }
        auto it = all.find(p);
        if (it == all.end()) break;
        p = it->second.ppid;
      }
    }
    *out = sum;
    return true;
  }

  SamplerOptions o_;
  Fd stat_, self_;
  int pid_ = 0;
  int cpus_ = 0;
  uint64_t hz_ = 100;
};

}  // namespace

std::unique_ptr<CpuTimesReader> MakeCpuTimesReader(const SamplerOptions& options) {
  return std::make_unique<LinuxCpuTimes>(options);
}

}  // namespace let
