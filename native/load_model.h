// The CPU load model, integrated over time: loadModelS = ∫ P/TDP dt, in seconds at TDP, with
// P/TDP = idle_share + (1 - idle_share)·u^exponent and u the machine's busy share of CPU time.
// The parameters come from TypeScript (lib/estimate/cpu-power.ts, CPU_LOAD_MODEL) through the
// sampler's options; C++ repeats none of them.
//
// Threads: owned by the Sampler and touched only under Sampler::read_mu_ (sampling thread or
// JavaScript thread). Holds no lock.
#pragma once

#include <cstdint>

#include "platform.h"

namespace let {

struct LoadModelParams {
  bool enabled = false;  // absent from the options: loadModelS stays 0
  double idle_share = 0;
  double exponent = 0;
};

class LoadModel {
 public:
  explicit LoadModel(LoadModelParams params) : params_(params) {}

  // One read of the machine's CPU times at t_ns: `before` is what the previous read saw, `now`
  // what this one saw. Integrates the interval since the previous read at the busy share u of
  // that interval; an interval with no new ticks keeps the last u.
  void Feed(const CpuRaw& before, const CpuRaw& now, int64_t t_ns);

  // ∫ P/TDP dt since the first read, seconds.
  double Seconds() const { return seconds_; }

 private:
  LoadModelParams params_;
  double last_u_ = 0;
  double seconds_ = 0;
  int64_t last_read_ns_ = 0;  // 0: never read
};

}  // namespace let
