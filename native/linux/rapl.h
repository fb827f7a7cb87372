// Internal interface of the Linux RAPL discovery (powercap.cpp, msr.cpp) used by discovery.cpp.
// Threads: all of it runs on the JavaScript thread during sampler construction.
#pragma once

#include <string>

#include "../domain.h"
#include "../platform.h"

namespace let {

struct CpuIdentity {
  std::string vendor;  // GenuineIntel, AuthenticAMD, HygonGenuine, or ""
  std::string model;
};

// powercap zones under <root>/sys/class/powercap and <root>/sys/devices/virtual/powercap.
// Appends readable zones to out->counters and unreadable ones to out->unavailable.
// Returns the number of counters added.
int DiscoverPowercap(const SamplerOptions& options, const CpuIdentity& cpu, Discovered* out);

// RAPL MSRs through <root>/dev/cpu/<cpu>/msr, one CPU per package. Returns counters added.
int DiscoverMsr(const SamplerOptions& options, const CpuIdentity& cpu, Discovered* out);

bool IsAmdLike(const std::string& vendor);

}  // namespace let
