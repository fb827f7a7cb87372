// See accumulator.h. Runs under Sampler::read_mu_ (sampling thread or JavaScript thread).
#include "accumulator.h"

namespace let {

uint64_t Accumulator::ToUj(unsigned __int128 raw) const {
  return static_cast<uint64_t>(raw * mul_ / div_);
}

uint64_t Accumulator::TotalUj() const { return ToUj(cum_raw_); }

uint64_t Accumulator::BoundUj(int64_t elapsed_ns) {
  if (elapsed_ns < 0) elapsed_ns = 0;
  // µW × ns / 10^9 = µJ
  unsigned __int128 b = static_cast<unsigned __int128>(kMaxPowerUw) *
                        static_cast<uint64_t>(elapsed_ns + kPlausibilitySlackNs);
  return static_cast<uint64_t>(b / 1'000'000'000u);
}

void Accumulator::Feed(bool ok, uint64_t raw, int64_t t_ns) {
  if (ok && mode_ == CounterMode::kRange && range_ > 0 && raw >= range_) ok = false;  // garbage
  if (!ok) {
    ++stats_.read_errors;
    return;
  }
  if (!have_base_) {
    have_base_ = true;
    base_raw_ = raw;
    base_t_ = t_ns;
    return;
  }
  const int64_t elapsed = t_ns - base_t_;
  const uint64_t bound = BoundUj(elapsed);
  const uint64_t prev = base_raw_;

  if (mode_ == CounterMode::kPower) {
    // raw is mW. An impossible power is dropped; the previous point stays the baseline.
    if (raw * 1000ull > kMaxPowerUw) {
      ++stats_.anomalies;
      return;
    }
    if (elapsed > 0) Add(static_cast<unsigned __int128>(prev + raw) * static_cast<uint64_t>(elapsed));
    base_raw_ = raw;
    base_t_ = t_ns;
    return;
  }

  unsigned __int128 delta = 0;
  bool wrapped = false;
  switch (mode_) {
    case CounterMode::kRange:
      if (raw >= prev) {
        delta = raw - prev;
      } else {
        delta = static_cast<unsigned __int128>(range_ - prev) + raw;
        wrapped = true;
      }
      break;
    case CounterMode::kModular32: {
      const uint32_t cur32 = static_cast<uint32_t>(raw), prev32 = static_cast<uint32_t>(prev);
      delta = static_cast<uint32_t>(cur32 - prev32);
      wrapped = cur32 < prev32;
      raw = cur32;
      break;
    }
    case CounterMode::kMonotonic:
      if (raw >= prev) {
        delta = raw - prev;
      } else {
        wrapped = true;  // a decrease: only a reset explains it (checked below)
        delta = ~static_cast<unsigned __int128>(0);
      }
      break;
    case CounterMode::kPower:
      break;
  }

  if (!(mode_ == CounterMode::kMonotonic && wrapped) && ToUj(delta) <= bound) {
    Add(delta);
    if (wrapped) ++stats_.wraps;
  } else if (wrapped && ToUj(raw) <= bound) {
    // The counter restarted from 0 (driver reload, module reload): what it shows now is the
    // energy since the restart. Energy between the last read and the restart is unknowable.
    Add(raw);
    ++stats_.resets;
  } else {
    // Physically impossible: discard, re-baseline at the new value.
    ++stats_.anomalies;
  }
  base_raw_ = raw;
  base_t_ = t_ns;
}

}  // namespace let
