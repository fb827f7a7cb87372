// RAPL through the Linux powercap sysfs tree: discovery (JS thread) and the counter that reads a
// zone's energy_uj with pread on a descriptor kept open (under Sampler::read_mu_).
#include <errno.h>

#include <algorithm>
#include <map>
#include <memory>

#include "fsutil.h"
#include "rapl.h"

namespace let {

namespace {

// Sampling thread or JS thread, under Sampler::read_mu_.
class PowercapCounter final : public Counter {
 public:
  explicit PowercapCounter(Fd fd) : fd_(std::move(fd)) {}
  bool Read(uint64_t* raw) override {
    char buf[32];
    const ssize_t r = fd_.Pread(buf, sizeof buf, 0);
    if (r <= 0) return false;
    return ParseU64Line(buf, static_cast<size_t>(r), raw);
  }
  int OpenFiles() const override { return fd_.valid() ? 1 : 0; }

 private:
  Fd fd_;
};

struct Zone {
  std::string type;             // intel-rapl | intel-rapl-mmio
  std::vector<unsigned> index;  // hex indices parsed: {0} or {0, 1}
  std::string dirname;          // intel-rapl:0:1
  std::string path;             // directory (under the hardware root)
  std::string real;             // realpath, for de-duplication
};

bool ParseHex(const std::string& s, unsigned* out) {
  if (s.empty() || s.size() > 7) return false;
  unsigned v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    v = v * 16 + d;
  }
  *out = v;
  return true;
}

// "intel-rapl:1f:2" → type intel-rapl, index {31, 2}.
bool ParseZoneName(const std::string& name, Zone* z) {
  const size_t c = name.find(':');
  if (c == std::string::npos) return false;
  z->type = name.substr(0, c);
  if (z->type != "intel-rapl" && z->type != "intel-rapl-mmio") return false;
  z->index.clear();
  size_t pos = c + 1;
  while (true) {
    const size_t next = name.find(':', pos);
    unsigned v;
    if (!ParseHex(name.substr(pos, next == std::string::npos ? std::string::npos : next - pos), &v)) return false;
    z->index.push_back(v);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  if (z->index.size() > 2) return false;
  z->dirname = name;
  return true;
}

// Zones of `dir` first (so a sys/class/powercap link wins over the same zone reached through
// its parent's directory), then the zones nested in them.
void Collect(const std::string& dir, std::map<std::string, Zone>* zones, int depth) {
  std::vector<std::string> nested;
  for (const std::string& e : ListDir(dir)) {
    Zone z;
    const std::string p = dir + "/" + e;
    if (ParseZoneName(e, &z)) {
      z.path = p;
      z.real = RealPath(p);
      zones->emplace(z.real, z);  // first seen wins (sys/class is scanned first)
      if (depth < 2 && IsDir(p)) nested.push_back(p);
    } else if (depth == 0 && (e == "intel-rapl" || e == "intel-rapl-mmio") && IsDir(p) &&
               dir.find("/devices/virtual/powercap") != std::string::npos) {
      nested.push_back(p);
    }
  }
  for (const std::string& p : nested) Collect(p, zones, depth + 1);
}

// "package-1" → 1; "package-0-die-1" → 0 and die 1.
bool ParsePackageName(const std::string& name, int* pkg, int* die) {
  if (name.rfind("package-", 0) != 0) return false;
  std::string rest = name.substr(8);
  *die = -1;
  const size_t d = rest.find("-die-");
  uint64_t v;
  if (d != std::string::npos) {
    if (!ParseU64(rest.substr(d + 5), &v)) return false;
    *die = static_cast<int>(v);
    rest = rest.substr(0, d);
  }
  if (!ParseU64(rest, &v)) return false;
  *pkg = static_cast<int>(v);
  return true;
}

double ResolutionUj(const std::string& vendor, const std::string& kind) {
  if (IsAmdLike(vendor)) return 1e6 / 65536.0;
  if (kind == "dram") return 15.3;
  return 1e6 / 16384.0;
}

}  // namespace

bool IsAmdLike(const std::string& vendor) { return vendor == "AuthenticAMD" || vendor == "HygonGenuine"; }

// JS thread.
int DiscoverPowercap(const SamplerOptions& o, const CpuIdentity& cpu, Discovered* out) {
  std::map<std::string, Zone> by_real;
  Collect(JoinRoot(o.hardware_root, "sys/class/powercap"), &by_real, 0);
  Collect(JoinRoot(o.hardware_root, "sys/devices/virtual/powercap"), &by_real, 0);
  std::vector<Zone> zones;
  for (auto& kv : by_real) zones.push_back(kv.second);
  std::sort(zones.begin(), zones.end(), [](const Zone& a, const Zone& b) {
    if (a.type != b.type) return a.type == "intel-rapl";  // intel-rapl before its mmio copy
    return a.index < b.index;
  });

  struct Top { int pkg = -1; int die = -1; std::string name; bool measured = false; bool skipped = false; };
  std::map<std::string, Top> tops;     // key: type + ":" + top index
  std::map<std::string, bool> measured_names;  // top-level names measured through intel-rapl
  int added = 0;
  for (const Zone& z : zones) {
    std::string name;
    if (!ReadLine(z.path + "/name", &name) || name.empty()) continue;  // not a zone
    const std::string top_key = z.type + ":" + std::to_string(z.index[0]);
    const bool sub = z.index.size() == 2;
    auto d = std::make_unique<PowercapCounter>(Fd());
    DomainInfo& info = d->info;
    info.id = "powercap:" + z.dirname;
    info.device = "cpu";
    info.name = name;
    info.method = "powercap";
    info.update_period_ms = 1;
    if (!sub) {
      Top t;
      t.name = name;
      if (ParsePackageName(name, &t.pkg, &t.die)) {
        info.kind = "package";
        info.index = t.pkg;
        info.die = t.die;
      } else {
        info.kind = name == "psys" ? "psys" : name == "dram" ? "dram" : "package";
        info.index = name == "psys" ? -1 : static_cast<int>(z.index[0]);
        t.pkg = info.index;
      }
      // The mmio control type repeats package zones of intel-rapl: the same counter, counted once.
      if (z.type == "intel-rapl-mmio" && measured_names.count(name)) {
        t.skipped = true;
        tops[top_key] = t;
        continue;
      }
      tops[top_key] = t;
    } else {
      auto it = tops.find(top_key);
      if (it != tops.end() && it->second.skipped) continue;  // subzone of a duplicate
      info.kind = name == "core" || name == "uncore" || name == "dram" || name == "psys" ? name : "core";
      info.index = it != tops.end() ? it->second.pkg : static_cast<int>(z.index[0]);
      info.parent_id = "powercap:" + z.type + ":" + [&] {
        const size_t c2 = z.dirname.rfind(':');
        return z.dirname.substr(z.type.size() + 1, c2 - z.type.size() - 1);
      }();
    }
    info.resolution_uj = ResolutionUj(cpu.vendor, info.kind);
    const std::string energy = z.path + "/energy_uj";
    info.source = energy;

    std::string range_text;
    uint64_t range = 0;
    if (!ReadLine(z.path + "/max_energy_range_uj", &range_text, o.simulate_unprivileged) ||
        !ParseU64(range_text, &range) || range == 0) {
      out->unavailable.push_back({"powercap", z.path + "/max_energy_range_uj",
                                  "the wrap range of " + name + " (" + z.dirname +
                                      ") cannot be read, so wraps could not be handled; the zone is not measured",
                                  "sudo scripts/rapl-access.sh (grants read access to the RAPL files), or run as root"});
      continue;
    }
    errno = 0;
    Fd fd = OpenRead(energy, o.simulate_unprivileged);
    if (!fd.valid()) {
      const int err = errno;
      if (err == EACCES || err == EPERM) {
        out->unavailable.push_back(
            {"powercap", energy,
             name + " (" + z.dirname +
                 "): energy_uj is readable only by root (Linux 5.10+ restricts RAPL counters since CVE-2020-8694)",
             "sudo scripts/rapl-access.sh (a udev rule that lets a group read the counters), or run as root"});
      } else {
        out->unavailable.push_back({"powercap", energy, name + " (" + z.dirname + "): cannot open energy_uj: " + ErrnoText(err), ""});
      }
      continue;
    }
    uint64_t probe_value = 0;
    char buf[32];
    const ssize_t r = fd.Pread(buf, sizeof buf, 0);
    if (r <= 0 || !ParseU64Line(buf, static_cast<size_t>(r), &probe_value)) {
      out->unavailable.push_back({"powercap", energy,
                                  name + " (" + z.dirname + "): energy_uj could not be read (" +
                                      (r < 0 ? ErrnoText(errno) : std::string("no value")) + ")",
                                  ""});
      continue;
    }
    auto counter = std::make_unique<PowercapCounter>(std::move(fd));
    counter->info = info;
    counter->info.wrap_range_uj = static_cast<double>(range);
    counter->mode = CounterMode::kRange;
    counter->range = range;
    counter->mul = 1;
    counter->div = 1;
    if (!sub) {
      tops[top_key].measured = true;
      if (z.type == "intel-rapl") measured_names[name] = true;
    }
    out->counters.push_back(std::move(counter));
    ++added;
  }
  return added;
}

}  // namespace let
