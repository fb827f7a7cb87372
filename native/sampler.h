// The sampler: owns the discovered counters, their accumulators, the CPU-time reader, the
// sampling thread, the ring of recent samples and the published snapshot. Platform-independent.
//
// Threads and locks (lock order: ctl_mu_ is never held while taking the others;
// read_mu_ before snap_mu_):
//   - JavaScript thread: constructor, Acquire, Release, Read, Latest, Recent, Stats, Close,
//     destructor. Never holds a lock while joining the thread.
//   - sampling thread (one per sampler, owned by this object, joined by StopThread()): ThreadMain.
//   ctl_mu_  guards holders_, stop_, interval_ns_, tick_use_ (thread control). The thread takes
//            it only when woken by waiter_ (a state change), never on a plain tick.
//   read_mu_ serialises hardware reads and accounting (counters_, acc_, cpu_ state).
//   snap_mu_ guards the published snapshot, the ring and the counts (what latest() returns).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "accumulator.h"
#include "domain.h"
#include "platform.h"
#include "waiter.h"

namespace let {

struct CpuTimesOut {
  bool available = false;
  double machine_total_s = 0, machine_busy_s = 0, process_s = 0, load_model_s = 0;
  int logical_cpus = 0;
};

struct Snapshot {
  int64_t t_ns = 0;
  std::vector<uint64_t> energy_uj;
  std::vector<uint64_t> attributed_uj;
  CpuTimesOut cpu;
};

// Rules the JavaScript layer owns and passes down with the options (lib/native/sampler-options.ts
// for the interval limits, lib/estimate/cpu-power.ts for the load model): C++ repeats none of them.
struct SamplingRules {
  int64_t min_interval_ns = 0;
  int64_t max_interval_ns = 0;
  // CPU load model P/TDP = idle_share + (1 - idle_share) * u^exponent; absent: loadModelS stays 0.
  bool load_model = false;
  double load_idle_share = 0;
  double load_exponent = 0;
};

// What one holder of the thread needs read on each tick besides the energy counters:
// machine CPU times (proc/stat: a load estimate) and the process's (attribution, process
// estimates; attribution also needs the machine's). Fresh reads always read both.
struct CpuTimesUse {
  bool machine = true;
  bool process = true;
};

struct SamplerCounts {
  uint64_t samples = 0;
  std::vector<DomainCounts> per_domain;
};

class Sampler {
 public:
  static constexpr size_t kRingCapacity = 4096;
  static constexpr int64_t kIdleIntervalNs = 1'000'000'000;       // reported while nobody holds it
  static constexpr int64_t kCpuTimesMinPeriodNs = 10'000'000;     // USER_HZ tick: 10 ms

  // JS thread: discovery (may throw std::exception on allocation failure only).
  Sampler(const SamplerOptions& options, const SamplingRules& rules);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  const SamplerOptions& options() const { return options_; }
  const SamplingRules& rules() const { return rules_; }
  const std::vector<DomainInfo>& domains() const { return domains_; }
  const Discovered& discovered() const { return disc_; }
  bool closed() const { return closed_.load(); }

  // JS thread. interval in ns (already validated against rules()); `use`: what this holder
  // needs read on each tick. Returns a token (> 0).
  int Acquire(int64_t interval_ns, CpuTimesUse use);
  void Release(int token);

  // JS thread. Fresh reading of every counter, then the totals.
  Snapshot Read();
  // JS thread. Latest published totals; touches no hardware (snap_mu_ only).
  Snapshot Latest();
  // JS thread. Ring of recent samples (full snapshots, oldest first) taken after since_ns
  // (0: all); snap_mu_ only.
  std::vector<Snapshot> Recent(int64_t since_ns);
  SamplerCounts Counts();
  // Effective interval (ns) the thread runs (or would run) at.
  int64_t EffectiveIntervalNs();

  bool ThreadRunning() const { return thread_running_.load(); }
  int OpenFiles();

  // JS thread (or env cleanup hook, which also runs on the JS thread). Idempotent.
  void Close();

 private:
  struct Holder {
    int64_t interval_ns;
    CpuTimesUse use;
  };

  void ThreadMain();              // sampling thread
  // Under read_mu_. `fresh`: a JS read (every CPU time now); else a tick reading what `use` asks.
  void SampleLocked(bool fresh, CpuTimesUse use);
  void UpdateLoadModelLocked(const CpuRaw& cpu, int64_t t);  // under read_mu_
  void StopThread();              // JS thread; joins
  void RecomputeLocked();         // under ctl_mu_: interval_ns_ and tick_use_ from holders_

  SamplerOptions options_;
  SamplingRules rules_;
  Discovered disc_;
  std::vector<DomainInfo> domains_;
  std::unique_ptr<CpuTimesReader> cpu_reader_;
  int64_t wrap_cap_ns_ = 0;

  // ---- under read_mu_
  std::mutex read_mu_;
  std::vector<Accumulator> acc_;
  std::vector<char> gpu_;                // per domain: a GPU (never attributed); set at construction
  std::vector<uint64_t> last_total_;     // per domain, last total seen (for deltas)
  std::vector<uint64_t> pending_uj_;     // energy not yet attributed (CPU ticks unchanged)
  std::vector<long double> attributed_;  // cumulative attributed energy
  CpuRaw cpu_last_{};                    // last CPU times read (fields keep their last read value)
  CpuRaw cpu_attr_base_{};               // CPU times at the last attribution
  bool cpu_have_base_ = false;
  int64_t machine_read_ns_ = 0;          // when proc/stat was last read (0: never)
  int64_t process_read_ns_ = 0;          // when the process's times were last read
  double last_u_ = 0;
  double load_model_s_ = 0;
  std::vector<uint64_t> raw_scratch_;
  std::vector<char> ok_scratch_;

  // ---- under snap_mu_
  std::mutex snap_mu_;
  Snapshot snap_;
  std::vector<Snapshot> ring_;  // kRingCapacity entries, each sized at construction
  size_t ring_head_ = 0, ring_size_ = 0;
  SamplerCounts counts_;

  // ---- under ctl_mu_
  std::mutex ctl_mu_;
  Waiter waiter_;  // the thread's timed wait; Notify() after every change of the fields below
  std::map<int, Holder> holders_;
  int next_token_ = 1;
  bool stop_ = false;
  int64_t interval_ns_ = kIdleIntervalNs;
  CpuTimesUse tick_use_{false, false};  // union of the holders' needs
  std::thread thread_;  // started/joined on the JS thread only

  std::atomic<bool> thread_running_{false};
  std::atomic<bool> closed_{false};
};

int64_t MonotonicNs();

}  // namespace let
