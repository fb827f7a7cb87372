// Plain data shared by discovery, the sampler and the Node-API layer. No threads, no locks:
// these values are built on the JavaScript thread during discovery and never change after.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace let {

// Mirrors DomainInfo in lib/native/types.ts.
struct DomainInfo {
  std::string id;
  std::string device;  // "cpu" | "gpu"
  std::string kind;    // package core uncore dram psys graphics gpu
  std::string name;
  int index = 0;
  int die = -1;
  std::string parent_id;  // "" = null
  std::string method;     // powercap msr nvml-energy nvml-power
  double resolution_uj = 1;
  double wrap_range_uj = 0;
  std::string source;
  std::string uuid;  // "" = null
  double update_period_ms = 1;
};

// Mirrors UnavailableSensor.
struct Unavailable {
  std::string method;  // powercap msr nvml
  std::string target;
  std::string reason;
  std::string fix;  // "" = null
};

// What the sampler was asked to measure: the JS options as lib/native/sampler-options.ts
// resolved them (every default is applied there; native/addon_options.h requires these two).
struct SamplerOptions {
  std::string hardware_root;
  std::string nvml_library;  // "" disables NVML
  std::vector<std::string> gpu_ids;
  int attribution_pid = 0;  // 0 = the calling process (proc/self)
  bool include_descendants = false;
  // Test hook (options.simulateUnprivileged, set from LET_TEST_UNPRIVILEGED=1 in TypeScript): open
  // helpers check the "other" permission bits as an unprivileged user would, because the tests
  // run as root (see test/fixtures/fake-hardware.ts).
  bool simulate_unprivileged = false;
};

// Hardware root joined with an absolute-style path ("sys/class/powercap").
inline std::string JoinRoot(const std::string& root, const std::string& rel) {
  std::string r = root.empty() ? "/" : root;
  if (r.back() != '/') r += '/';
  size_t i = 0;
  while (i < rel.size() && rel[i] == '/') ++i;
  return r + rel.substr(i);
}

}  // namespace let
