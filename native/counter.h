// One energy counter as the sampler sees it: a raw value read from hardware plus how to turn
// raw values into exact microjoules. Platform code (native/linux/) implements Read().
//
// Threads: Read() runs on the sampling thread or on the JavaScript thread (fresh reads), always
// under Sampler::read_mu_, so an implementation needs no lock of its own. Construction and
// destruction happen on the JavaScript thread (discovery, Sampler::Close) with no thread running.
#pragma once

#include <cstdint>

#include "domain.h"

namespace let {

enum class CounterMode {
  kRange,       // powercap energy_uj: wraps at `range` (max_energy_range_uj)
  kModular32,   // MSR energy status: 32-bit modular counts
  kMonotonic,   // NVML total energy (mJ), 64-bit; a decrease is a reset
  kPower,       // NVML power (mW) integrated by trapezoid over time
};

class Counter {
 public:
  virtual ~Counter() = default;
  // Read the raw value (µJ for powercap, counts for MSR, mJ for NVML energy, mW for NVML power).
  // Returns false when the read failed or was unparsable; *raw is then meaningless.
  virtual bool Read(uint64_t* raw) = 0;
  // File descriptors this counter holds open exclusively (shared ones are counted once, by
  // the owner that reports them).
  virtual int OpenFiles() const = 0;

  DomainInfo info;
  CounterMode mode = CounterMode::kRange;
  uint64_t range = 0;  // kRange: wrap range in raw units
  // Exact conversion of a cumulative raw total to µJ: uj = raw * mul / div (128-bit).
  // powercap 1/1, MSR 10^6 / 2^ESU, NVML energy 1000/1, NVML power 1 / 2·10^6 (mW·ns summed twice).
  uint64_t mul = 1;
  uint64_t div = 1;
};

}  // namespace let
