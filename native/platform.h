// What each platform provides to the sampler: discovery of counters and the CPU-time reader.
// native/linux/*.cpp implement it for Linux; native/stub/discovery_stub.cpp elsewhere (no sensors).
//
// Threads: Discover(), MakeCpuTimesReader() and MakeMemoryReader() run on the JavaScript thread
// (sampler construction). CpuTimesReader::Read() runs under Sampler::read_mu_ (sampling thread or
// JS thread); MemoryReader::ReadAvailableBytes() under read_mu_ on the JS thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "counter.h"
#include "domain.h"

namespace let {

// Something counters borrow: the NVML library, a descriptor several MSR counters share.
// Released after every counter (Sampler::Close clears the counters first).
class Resource {
 public:
  virtual ~Resource() = default;
  // Descriptors it holds, counted once here (the counters that borrow it report 0).
  virtual int OpenFiles() const { return 0; }
};

struct Discovered {
  std::vector<std::unique_ptr<Counter>> counters;  // in reading order
  std::vector<Unavailable> unavailable;
  std::string cpu_vendor;
  std::string cpu_model;
  bool nvml_loaded = false;
  std::string nvml_driver_version;
  // What the counters borrow, owned here (one field for every kind of owner); outlives `counters`.
  std::vector<std::shared_ptr<Resource>> resources;
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

// The machine's available memory (MemAvailable, what os.freemem() returns), for the record's
// RAM in use at stop. Opens its file on the first read.
class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  // False where it cannot be read (the caller then asks os.freemem()).
  virtual bool ReadAvailableBytes(uint64_t* out) = 0;
  virtual int OpenFiles() const = 0;
};

const char* PlatformName();
Discovered Discover(const SamplerOptions& options);
std::unique_ptr<CpuTimesReader> MakeCpuTimesReader(const SamplerOptions& options);
std::unique_ptr<MemoryReader> MakeMemoryReader();

}  // namespace let
