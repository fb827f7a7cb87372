// See load_model.h. Runs under Sampler::read_mu_.
#include "load_model.h"

#include <algorithm>
#include <cmath>

namespace let {

void LoadModel::Feed(const CpuRaw& before, const CpuRaw& now, int64_t t_ns) {
  if (now.available && before.available && now.machine_total > before.machine_total) {
    const double dt = static_cast<double>(now.machine_total - before.machine_total);
    const double db =
        now.machine_busy >= before.machine_busy ? static_cast<double>(now.machine_busy - before.machine_busy) : 0;
    last_u_ = std::clamp(db / dt, 0.0, 1.0);
  }
  if (params_.enabled && last_read_ns_ != 0 && now.available) {
    const double factor = params_.idle_share + (1 - params_.idle_share) * std::pow(last_u_, params_.exponent);
    seconds_ += factor * static_cast<double>(t_ns - last_read_ns_) / 1e9;
  }
  last_read_ns_ = t_ns;
}

}  // namespace let
