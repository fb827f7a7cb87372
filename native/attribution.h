// Process attribution: the share of each domain's energy that belongs to the attributed process
// (TypeScript: Reading.attributedUj). A CPU domain's energy waits until the machine's tick
// count moves in a sample that read both the machine's and the process's CPU times, then the
// whole wait is attributed at the process's share of CPU time over that window. A GPU domain
// is attributed whole (NVML reports no per-process energy here).
//
// Threads: owned by the Sampler and touched only under Sampler::read_mu_ (sampling thread or
// JavaScript thread). Holds no lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "platform.h"

namespace let {

class Attribution {
 public:
  // `whole`: per domain, attributed whole (a GPU) rather than by CPU share.
  explicit Attribution(std::vector<char> whole);

  // One sample: the accumulators' totals (µJ, per domain) and, when this sample read the
  // process's CPU times (with the machine's), those times; nullptr otherwise.
  void Feed(const std::vector<uint64_t>& totals_uj, const CpuRaw* cpu);

  // Cumulative attributed energy of domain i, µJ.
  uint64_t AttributedUj(size_t i) const { return static_cast<uint64_t>(attributed_[i]); }

 private:
  // Closes the window when the machine's ticks moved since its start: *share = the process's
  // share of them. False while the window stays open.
  bool CloseWindow(const CpuRaw& cpu, double* share);

  std::vector<char> whole_;
  std::vector<uint64_t> last_total_;     // per domain, the total at the previous sample
  std::vector<uint64_t> pending_uj_;     // per CPU domain, energy of the open window
  std::vector<long double> attributed_;  // per domain, cumulative
  CpuRaw window_start_{};                // CPU times when the open window started
  bool have_window_ = false;
};

}  // namespace let
