// The sampler: owns the discovered counters, their accumulators, the CPU-time reader, the
// attribution and load model, the sampling thread, the ring of recent samples and the
// published reading. Platform-independent.
//
// Threads and locks (lock order: ctl_mu_ is never held while taking the others;
// read_mu_ before snap_mu_):
//   - JavaScript thread: constructor, Acquire, Release, Read, Latest, RecentSamples, Stats,
//     OpenFiles, Close, destructor. Never holds a lock while joining the thread.
//   - sampling thread (one per sampler, owned by this object, joined by StopThread()): ThreadMain.
//     It samples while a holder holds it. When the last holder leaves, Release either joins it
//     (a direct sampler) or, when asked to (the pool's idle window, lib/native/sampler-pool.ts),
//     parks it: at its next tick it takes no sample and waits in waiter_ with no deadline (no
//     CPU, no wake-up) until an Acquire wakes it or Close()/the destructor stops and joins it. An
//     Acquire before that tick finds it still ticking and costs no wake-up at all.
//   ctl_mu_  guards holders_, stop_, parked_, asleep_, interval_ns_, tick_use_ and told_* (thread
//            control). The thread takes it only when woken by waiter_ (a state change) or on a
//            tick while parked, never on a plain tick.
//   read_mu_ serialises hardware reads and accounting (disc_.counters, acc_, cpu_reader_,
//            cpu_last_, attribution_, load_model_ and the read times).
//   snap_mu_ guards the published reading, the ring and the stats (what latest() returns).
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
#include "attribution.h"
#include "domain.h"
#include "load_model.h"
#include "platform.h"
#include "waiter.h"

namespace let {

// TypeScript: CpuTimes (lib/native/types.ts).
struct CpuTimes {
  bool available = false;
  double machine_total_s = 0, machine_busy_s = 0, process_s = 0, load_model_s = 0;
  int logical_cpus = 0;
};

// TypeScript: Reading.
struct Reading {
  int64_t t_ns = 0;
  std::vector<uint64_t> energy_uj;
  std::vector<uint64_t> attributed_uj;
  CpuTimes cpu;
};

// Rules the JavaScript layer owns and passes down with the options (lib/native/sampler-options.ts
// for the interval limits, lib/estimate/cpu-power.ts for the load model): C++ repeats none of them.
struct SamplingRules {
  int64_t min_interval_ns = 0;
  int64_t max_interval_ns = 0;
  LoadModelParams load_model;
};

// TypeScript: CpuTimesUse. What one holder of the thread needs read on each tick besides the
// energy counters: machine CPU times (proc/stat: a load estimate) and the process's
// (attribution, process estimates; attribution also needs the machine's). Fresh reads always
// read both.
struct CpuTimesUse {
  bool machine = true;
  bool process = true;
};
// A tick that reads no CPU times (CpuTimesUse{} reads both).
constexpr CpuTimesUse kNoCpuTimes{false, false};

// TypeScript: SamplerStats (the addon adds the sums, the thread state and the interval).
struct SamplerStats {
  uint64_t samples = 0;
  std::vector<DomainStats> per_domain;
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

  // JS thread, ctl_mu_. interval in ns (already validated against rules()); `use`: what this
  // holder needs read on each tick. Starts the thread, or wakes a parked one. Returns a token (> 0).
  int Acquire(int64_t interval_ns, CpuTimesUse use);
  // JS thread, ctl_mu_. When the last holder leaves: with `park`, the thread is parked (kept for
  // the next Acquire, joined by Close()); else it is joined (no lock held).
  void Release(int token, bool park);

  // JS thread, read_mu_ then snap_mu_. Fresh reading of every counter, then the totals.
  Reading Read();
  // JS thread, read_mu_. The machine's available memory now, bytes; false where it cannot be read.
  bool ReadMemAvailable(uint64_t* bytes) {
    std::lock_guard<std::mutex> lk(read_mu_);
    return !closed_.load() && mem_reader_ != nullptr && mem_reader_->ReadAvailableBytes(bytes);
  }
  // JS thread, snap_mu_. Latest published totals; touches no hardware.
  Reading Latest();
  // JS thread, snap_mu_. Ring of recent samples (oldest first) taken after since_ns (0: all).
  std::vector<Reading> RecentSamples(int64_t since_ns);
  // JS thread, snap_mu_.
  SamplerStats Stats();
  // JS thread, ctl_mu_. Effective interval (ns) the thread runs (or would run) at.
  int64_t EffectiveIntervalNs();

  // Any thread. Whether the thread samples (a holder holds it).
  bool ThreadRunning() const { return thread_running_.load(); }
  // Any thread. Whether the thread exists but is parked (no holder; waits with no deadline).
  bool ThreadParked() const { return thread_parked_.load(); }
  // Any thread. OS threads this sampler has started (a parked thread woken again is not a new one).
  uint64_t ThreadStarts() const { return thread_starts_.load(); }
  // JS thread, read_mu_. Descriptors held by counters, resources and the CPU-time reader.
  int OpenFiles();

  // JS thread (or env cleanup hook, which also runs on the JS thread). Idempotent.
  void Close();

 private:
  struct Holder {
    int64_t interval_ns;
    CpuTimesUse use;
  };

  void ThreadMain();              // sampling thread
  // Under read_mu_. One sample: counters, CPU times, attribution, publication.
  // `fresh`: a JS read (every CPU time now); else a tick reading what `use` asks.
  void SampleLocked(bool fresh, CpuTimesUse use);
  int64_t ReadCountersLocked();   // under read_mu_: feeds acc_ and totals_; returns the time
  // Under read_mu_: reads the CPU times due, feeds the load model; true when the process's were read.
  bool ReadCpuTimesLocked(bool fresh, CpuTimesUse use, int64_t t_ns);
  void PublishLocked(int64_t t_ns);  // under read_mu_; takes snap_mu_
  void StopThread();              // JS thread; joins
  void RecomputeLocked();         // under ctl_mu_: interval_ns_ and tick_use_ from holders_
  bool ChangeNeedsWakeLocked() const;  // under ctl_mu_: what the thread does is not what it should
  void TellThreadLocked();        // under ctl_mu_: told_* = the current settings, wake the thread

  SamplerOptions options_;
  SamplingRules rules_;
  Discovered disc_;
  std::vector<DomainInfo> domains_;
  std::unique_ptr<CpuTimesReader> cpu_reader_;
  std::unique_ptr<MemoryReader> mem_reader_;  // under read_mu_
  int64_t wrap_cap_ns_ = 0;

  // ---- under read_mu_
  std::mutex read_mu_;
  std::vector<Accumulator> acc_;
  std::vector<uint64_t> totals_;  // per domain, acc_[i].TotalUj() at the last sample
  Attribution attribution_;
  LoadModel load_model_;
  CpuRaw cpu_last_{};             // last CPU times read (fields keep their last read value)
  std::vector<uint64_t> raw_scratch_;
  std::vector<char> ok_scratch_;

  // ---- under snap_mu_
  std::mutex snap_mu_;
  Reading snap_;
  std::vector<Reading> ring_;  // kRingCapacity entries, each sized at construction
  size_t ring_head_ = 0, ring_size_ = 0;
  SamplerStats stats_;

  // ---- under ctl_mu_
  std::mutex ctl_mu_;
  Waiter waiter_;  // the thread's timed wait; Notify() after every change of the fields below
  std::map<int, Holder> holders_;
  int next_token_ = 1;
  bool stop_ = false;
  bool parked_ = false;  // no holder, the thread kept for the next Acquire
  bool asleep_ = false;  // parked and waiting with no deadline: only Notify wakes it
  int64_t interval_ns_ = kIdleIntervalNs;
  CpuTimesUse tick_use_{false, false};  // union of the holders' needs
  int64_t told_interval_ns_ = 0;        // the settings the thread was last given (started or woken)
  CpuTimesUse told_use_{false, false};
  std::thread thread_;  // started/joined on the JS thread only

  std::atomic<bool> thread_running_{false};
  std::atomic<bool> thread_parked_{false};
  std::atomic<uint64_t> thread_starts_{0};
  std::atomic<bool> closed_{false};
};

int64_t MonotonicNs();

}  // namespace let
