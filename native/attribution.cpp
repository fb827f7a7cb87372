// See attribution.h. Runs under Sampler::read_mu_.
#include "attribution.h"

#include <algorithm>

namespace let {

Attribution::Attribution(std::vector<char> whole)
    : whole_(std::move(whole)),
      last_total_(whole_.size(), 0),
      pending_uj_(whole_.size(), 0),
      attributed_(whole_.size(), 0) {}

bool Attribution::CloseWindow(const CpuRaw& cpu, double* share) {
  if (!cpu.available) return false;
  if (!have_window_) {
    window_start_ = cpu;
    have_window_ = true;
    return false;
  }
  if (cpu.machine_total <= window_start_.machine_total) return false;
  const double m = static_cast<double>(cpu.machine_total - window_start_.machine_total);
  const double p = cpu.process >= window_start_.process ? static_cast<double>(cpu.process - window_start_.process) : 0;
  *share = std::clamp(p / m, 0.0, 1.0);
  window_start_ = cpu;
  return true;
}

void Attribution::Feed(const std::vector<uint64_t>& totals_uj, const CpuRaw* cpu) {
  double share = 0;
  const bool close = cpu != nullptr && CloseWindow(*cpu, &share);
  for (size_t i = 0; i < whole_.size(); ++i) {
    const uint64_t delta = totals_uj[i] - last_total_[i];
    last_total_[i] = totals_uj[i];
    if (whole_[i]) {
      attributed_[i] += delta;
      continue;
    }
    pending_uj_[i] += delta;
    if (close) {
      attributed_[i] += static_cast<long double>(pending_uj_[i]) * share;
      pending_uj_[i] = 0;
    }
  }
}

}  // namespace let
