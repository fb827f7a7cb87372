// A Reading written as plain numbers into a caller's Float64Array (readInto), so that a fresh
// reading reaches JavaScript without building objects through Node-API (about 2.5 µs of the
// 3 µs a Reading object costs). Layout, for n domains (lib/native/reading-buffer.ts reads it):
//   [0]            t_ns
//   [1 .. n]       energy_uj
//   [n+1 .. 2n]    attributed_uj
//   [2n+1 .. 2n+6] cpu: available (0/1), machine_total_s, machine_busy_s, process_s,
//                  load_model_s, logical_cpus
// Runs on the JavaScript thread (it only copies numbers).
#pragma once

#include <cstddef>

#include "sampler.h"

namespace let {

constexpr size_t kReadingCpuFields = 6;

inline size_t ReadingBufferLength(size_t domains) { return 1 + 2 * domains + kReadingCpuFields; }

// False (nothing written) when `out` is shorter than ReadingBufferLength.
inline bool WriteReading(const Reading& r, double* out, size_t length) {
  const size_t n = r.energy_uj.size();
  if (length < ReadingBufferLength(n) || r.attributed_uj.size() != n) return false;
  out[0] = static_cast<double>(r.t_ns);
  for (size_t i = 0; i < n; ++i) {
    out[1 + i] = static_cast<double>(r.energy_uj[i]);
    out[1 + n + i] = static_cast<double>(r.attributed_uj[i]);
  }
  double* cpu = out + 1 + 2 * n;
  cpu[0] = r.cpu.available ? 1 : 0;
  cpu[1] = r.cpu.machine_total_s;
  cpu[2] = r.cpu.machine_busy_s;
  cpu[3] = r.cpu.process_s;
  cpu[4] = r.cpu.load_model_s;
  cpu[5] = r.cpu.logical_cpus;
  return true;
}

}  // namespace let
