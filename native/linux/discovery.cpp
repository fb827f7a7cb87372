// Linux discovery: CPU identity from proc/cpuinfo, RAPL through powercap (or MSR where powercap
// gives nothing readable), and NVIDIA GPUs through NVML (nvml_counters.cpp). Runs on the
// JavaScript thread during sampler construction.

#include "../platform.h"
#include "fsutil.h"
#include "nvml.h"
#include "rapl.h"

namespace let {

namespace {

CpuIdentity ReadCpuIdentity(const std::string& root) {
  CpuIdentity id;
  std::string text;
  if (!ReadText(JoinRoot(root, "proc/cpuinfo"), &text)) return id;
  size_t pos = 0;
  while (pos < text.size() && (id.vendor.empty() || id.model.empty())) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = Trim(line.substr(0, colon));
    const std::string value = Trim(line.substr(colon + 1));
    if (key == "vendor_id" && id.vendor.empty()) id.vendor = value;
    if (key == "model name" && id.model.empty()) id.model = value;
  }
  return id;
}

}  // namespace

const char* PlatformName() { return "linux"; }

Discovered Discover(const SamplerOptions& o) {
  Discovered out;
  const CpuIdentity cpu = ReadCpuIdentity(o.hardware_root);
  out.cpu_vendor = cpu.vendor;
  out.cpu_model = cpu.model;
  if (DiscoverPowercap(o, cpu, &out) == 0) DiscoverMsr(o, cpu, &out);
  DiscoverNvml(o, &out);
  return out;
}

}  // namespace let
