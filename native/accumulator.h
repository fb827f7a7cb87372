// Exact per-domain accounting: turns successive raw readings into a cumulative integer number
// of microjoules, handling wraps, resets, failed reads and impossible deltas.
//
// Threads: an Accumulator is owned by the Sampler and only touched under Sampler::read_mu_
// (sampling thread or JavaScript thread). It holds no lock itself.
#pragma once

#include <cstdint>

#include "counter.h"

namespace let {

// Power above which a delta is physically impossible for one package or GPU (5 kW), in µW.
constexpr uint64_t kMaxPowerUw = 5000ull * 1000ull * 1000ull;
// Slack added to the elapsed time when judging a delta: counters update about every 1 ms (RAPL)
// to 100 ms (NVML), so two reads close together can legitimately show one update's energy.
constexpr int64_t kPlausibilitySlackNs = 10'000'000;

// Per-domain trouble counters (TypeScript: SamplerStats.perDomain).
struct DomainStats {
  uint64_t read_errors = 0;
  uint64_t anomalies = 0;
  uint64_t resets = 0;
  uint64_t wraps = 0;
};

class Accumulator {
 public:
  Accumulator(CounterMode mode, uint64_t range, uint64_t mul, uint64_t div)
      : mode_(mode), range_(range), mul_(mul), div_(div) {}

  // Feed one read taken at `t_ns` (CLOCK_MONOTONIC). ok == false: a failed or unparsable read;
  // it is counted and skipped, and the last good reading stays the baseline, so the next good
  // read accounts for the whole gap (nothing lost, nothing invented).
  void Feed(bool ok, uint64_t raw, int64_t t_ns);

  // Cumulative exact total, µJ (floor of the exact rational value).
  uint64_t TotalUj() const;
  const DomainStats& stats() const { return stats_; }

 private:
  uint64_t ToUj(unsigned __int128 raw) const;
  // Largest plausible energy over `elapsed_ns`, µJ.
  static uint64_t BoundUj(int64_t elapsed_ns);
  void Add(unsigned __int128 raw_delta) { cum_raw_ += raw_delta; }

  CounterMode mode_;
  uint64_t range_, mul_, div_;
  bool have_base_ = false;
  uint64_t base_raw_ = 0;
  int64_t base_t_ = 0;
  unsigned __int128 cum_raw_ = 0;
  DomainStats stats_;
};

}  // namespace let
