// RAPL through model-specific registers (/dev/cpu/<cpu>/msr): discovery on the JS thread, and
// the counter that preads one 8-byte register (under Sampler::read_mu_). Used where powercap is
// absent or unreadable. Raw values are 32-bit counts; the sampler converts cumulative counts to
// µJ exactly (counts × 10^6 / 2^ESU in 128-bit arithmetic).
//
// Offsets: the msr character device takes the register number as the file offset. A simulated
// hardware root (test/fixtures/fake-hardware.ts) cannot store 8-byte registers one byte apart
// (AMD's 0xC0010299/0xC001029A/0xC001029B), so when dev/cpu/N/msr is a regular file the register
// r is read at byte offset 8·r instead. Real devices are never regular files.
#include <errno.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <memory>

#include "fsutil.h"
#include "rapl.h"

namespace let {

namespace {

constexpr uint32_t kIntelUnit = 0x606;
constexpr uint32_t kAmdUnit = 0xC0010299;

struct Register {
  uint32_t address;
  const char* kind;
  bool first_package_only;  // psys covers the platform: read it once
};

const Register kIntelRegisters[] = {
    {0x611, "package", false}, {0x639, "core", false}, {0x641, "graphics", false},
    {0x619, "dram", false},    {0x64D, "psys", true},
};
const Register kAmdRegisters[] = {{0xC001029B, "package", false}, {0xC001029A, "core", false}};

// One CPU's msr device, shared by the counters of its registers; listed in
// Discovered::resources, which counts its descriptor once.
struct MsrDevice final : Resource {
  explicit MsrDevice(Fd f) : fd(std::move(f)) {}
  int OpenFiles() const override { return fd.valid() ? 1 : 0; }
  Fd fd;
};

// Sampling thread or JS thread, under Sampler::read_mu_.
class MsrCounter final : public Counter {
 public:
  MsrCounter(std::shared_ptr<MsrDevice> dev, off_t offset) : dev_(std::move(dev)), offset_(offset) {}
  bool Read(uint64_t* raw) override {
    uint64_t v = 0;
    if (dev_->fd.Pread(&v, sizeof v, offset_) != static_cast<ssize_t>(sizeof v)) return false;
    *raw = v & 0xFFFFFFFFull;  // energy status: bits 31:0
    return true;
  }
  int OpenFiles() const override { return 0; }  // the device counts it, once

 private:
  std::shared_ptr<MsrDevice> dev_;
  off_t offset_;
};

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%X", v);
  return buf;
}

// package id → first CPU of that package, from sys/devices/system/cpu/cpu*/topology.
std::map<int, int> PackageCpus(const std::string& root) {
  std::map<int, int> first;
  const std::string base = JoinRoot(root, "sys/devices/system/cpu");
  for (const std::string& e : ListDir(base)) {
    if (e.size() < 4 || e.compare(0, 3, "cpu") != 0) continue;
    uint64_t cpu;
    if (!ParseU64(e.substr(3), &cpu)) continue;
    std::string text;
    uint64_t pkg;
    if (!ReadLine(base + "/" + e + "/topology/physical_package_id", &text) || !ParseU64(text, &pkg)) continue;
    auto it = first.find(static_cast<int>(pkg));
    if (it == first.end() || it->second > static_cast<int>(cpu)) first[static_cast<int>(pkg)] = static_cast<int>(cpu);
  }
  return first;
}

}  // namespace

// JS thread.
int DiscoverMsr(const SamplerOptions& o, const CpuIdentity& cpu, Discovered* out) {
  const bool amd = IsAmdLike(cpu.vendor);
  if (!amd && cpu.vendor != "GenuineIntel") return 0;  // unknown vendor: no RAPL registers to try
  std::map<int, int> packages = PackageCpus(o.hardware_root);
  if (packages.empty()) packages[0] = 0;
  const uint32_t unit_addr = amd ? kAmdUnit : kIntelUnit;
  int added = 0;
  bool first_package = true;
  for (const auto& pc : packages) {
    const int pkg = pc.first, cpu_no = pc.second;
    const std::string path = JoinRoot(o.hardware_root, "dev/cpu/" + std::to_string(cpu_no) + "/msr");
    errno = 0;
    Fd fd = OpenRead(path, o.simulate_unprivileged);
    if (!fd.valid()) {
      const int err = errno;
      if (err == ENOENT || err == ENXIO || err == ENODEV) {
        out->unavailable.push_back({"msr", path, "the msr kernel module is not loaded (no " + path + ")", "sudo modprobe msr"});
      } else if (err == EACCES || err == EPERM) {
        out->unavailable.push_back(
            {"msr", path, "reading RAPL registers through " + path + " needs root (CAP_SYS_RAWIO and read permission)",
             "run as root, or sudo setcap cap_sys_rawio=ep \"$(readlink -f \"$(command -v node)\")\" and grant read access to /dev/cpu/*/msr"});
      } else {
        out->unavailable.push_back({"msr", path, "cannot open " + path + ": " + ErrnoText(err), ""});
      }
      first_package = false;
      continue;
    }
    struct stat st;
    const off_t stride = ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) ? 8 : 1;
    uint64_t unit = 0;
    if (fd.Pread(&unit, sizeof unit, static_cast<off_t>(unit_addr) * stride) != static_cast<ssize_t>(sizeof unit)) {
      out->unavailable.push_back({"msr", path + "@" + Hex(unit_addr),
                                  "the RAPL power-unit register cannot be read (this CPU or hypervisor does not expose RAPL)", ""});
      first_package = false;
      continue;
    }
    const unsigned esu = static_cast<unsigned>((unit >> 8) & 0x1F);
    auto shared = std::make_shared<MsrDevice>(std::move(fd));
    std::string package_id;
    int here = 0;
    for (const Register& reg : amd ? std::vector<Register>(std::begin(kAmdRegisters), std::end(kAmdRegisters))
                                   : std::vector<Register>(std::begin(kIntelRegisters), std::end(kIntelRegisters))) {
      if (reg.first_package_only && !first_package) continue;
      const bool is_package = std::string(reg.kind) == "package";
      uint64_t v = 0;
      const bool ok = shared->fd.Pread(&v, sizeof v, static_cast<off_t>(reg.address) * stride) == static_cast<ssize_t>(sizeof v);
      if (!ok || (!is_package && (v & 0xFFFFFFFFull) == 0)) {
        // A register this CPU lacks faults (EIO) or never counts: not a domain.
        if (is_package) {
          out->unavailable.push_back({"msr", path + "@" + Hex(reg.address),
                                      "the package energy register cannot be read" +
                                          std::string(ok ? "" : ": " + ErrnoText(errno)), ""});
        }
        continue;
      }
      auto c = std::make_unique<MsrCounter>(shared, static_cast<off_t>(reg.address) * stride);
      DomainInfo& info = c->info;
      info.id = "msr:cpu" + std::to_string(cpu_no) + ":" + Hex(reg.address);
      for (char& ch : info.id) ch = static_cast<char>(ch == 'X' ? 'x' : std::tolower(static_cast<unsigned char>(ch)));
      info.device = "cpu";
      info.kind = reg.kind;
      info.name = is_package ? "package-" + std::to_string(pkg) : reg.kind;
      info.index = std::string(reg.kind) == "psys" ? -1 : pkg;
      info.die = -1;
      info.parent_id = is_package || std::string(reg.kind) == "psys" ? "" : package_id;
      info.method = "msr";
      // Intel server DRAM counts in a fixed 15.3 µJ unit (2^-16 J; Haswell-EP through Ice
      // Lake-SP, Xeon Phi) whatever the unit register says: applied to Xeon models, the parts
      // that have the DRAM register. Other quirks are left to powercap, which knows them.
      const bool server_dram = !amd && std::string(reg.kind) == "dram" &&
                               (cpu.model.find("Xeon") != std::string::npos || cpu.model.find("Phi") != std::string::npos);
      const unsigned reg_esu = server_dram ? 16u : esu;
      info.resolution_uj = 1e6 / static_cast<double>(1ull << reg_esu);
      info.wrap_range_uj = 4294967296.0 * info.resolution_uj;
      info.source = path + "@" + Hex(reg.address);
      info.update_period_ms = 1;
      c->mode = CounterMode::kModular32;
      c->mul = 1000000;
      c->div = 1ull << reg_esu;
      if (is_package) package_id = info.id;
      out->counters.push_back(std::move(c));
      ++added;
      ++here;
    }
    if (here > 0) out->resources.push_back(shared);
    first_package = false;
  }
  return added;
}

}  // namespace let
