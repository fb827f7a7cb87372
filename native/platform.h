// What each platform provides to the sampler: discovery of counters and the CPU-time reader.
// native/linux/*.cpp implement it for Linux; native/stub/discovery_stub.cpp elsewhere (no sensors).
//
// Threads: Discover() and MakeCpuTimesReader() run on the JavaScript thread (sampler
// construction). CpuTimesReader::Read() runs under Sampler::read_mu_ (sampling thread or JS thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "counter.h"
#include "domain.h"

namespace let {

// Owns platform resources the counters borrow (the NVML library); destroyed after the counters.
class PlatformResources {
 public:
  virtual ~PlatformResources() = default;
};

struct Discovered {
  std::vector<std::unique_ptr<Counter>> counters;  // in reading order
  std::vector<Unavailable> unavailable;
  std::string cpu_vendor;
  std::string cpu_model;
  bool nvml_loaded = false;
  std::string nvml_driver_version;
  std::unique_ptr<PlatformResources> resources;  // outlives `counters` (Sampler destroys counters first)
  int shared_files = 0;  // descriptors shared between counters (counted here, once)
  std::vector<std::shared_ptr<void>> shared;      // keeps shared descriptors alive
};

// Raw CPU time counters (ticks of USER_HZ).
struct CpuRaw {
  bool available = false;
  uint64_t machine_total = 0;
  uint64_t machine_busy = 0;
  uint64_t process = 0;
  int logical_cpus = 0;
  uint64_t hz = 100;
};

class CpuTimesReader {
 public:
  virtual ~CpuTimesReader() = default;
  // Reads the machine's times (proc/stat) when `machine` and the process's when `process`;
  // fields not read keep their values. `available` is whether proc/stat was readable at the
  // last machine read. `fresh`: a fresh read (exact now, whatever it costs), not a tick.
  virtual void Read(CpuRaw* out, bool machine, bool process, bool fresh) = 0;
  virtual int OpenFiles() const = 0;
};

const char* PlatformName();
Discovered Discover(const SamplerOptions& options);
std::unique_ptr<CpuTimesReader> MakeCpuTimesReader(const SamplerOptions& options);

}  // namespace let
