// See sampler.h for the thread and lock discipline.
#include "sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace let {

// steady_clock is CLOCK_MONOTONIC on Linux (libstdc++ and libc++).
int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// JS thread. Discovery, then one baseline sample so that totals start at 0 now.
Sampler::Sampler(const SamplerOptions& options, const SamplingRules& rules)
    : options_(options), rules_(rules), disc_(Discover(options)) {
  cpu_reader_ = MakeCpuTimesReader(options_);
  wrap_cap_ns_ = rules_.max_interval_ns;
  const size_t n = disc_.counters.size();
  domains_.reserve(n);
  acc_.reserve(n);
  for (const auto& c : disc_.counters) {
    domains_.push_back(c->info);
    acc_.emplace_back(c->mode, c->range, c->mul, c->div);
    // Shortest wrap time at the conservative power bound: range_uj / P.
    if (c->info.wrap_range_uj > 0) {
      const double wrap_s = c->info.wrap_range_uj / static_cast<double>(kMaxPowerUw);
      const int64_t cap = static_cast<int64_t>(wrap_s / 4 * 1e9);
      wrap_cap_ns_ = std::min(wrap_cap_ns_, cap);
    }
  }
  for (const auto& c : disc_.counters) gpu_.push_back(c->info.device == "gpu" ? 1 : 0);
  last_total_.assign(n, 0);
  pending_uj_.assign(n, 0);
  attributed_.assign(n, 0);
  raw_scratch_.assign(n, 0);
  ok_scratch_.assign(n, 0);
  counts_.per_domain.assign(n, DomainCounts{});
  snap_.energy_uj.assign(n, 0);
  snap_.attributed_uj.assign(n, 0);
  ring_.assign(kRingCapacity, snap_);  // sized now: copying a sample into an entry never allocates
  {
    std::lock_guard<std::mutex> lk(read_mu_);
    SampleLocked(true, CpuTimesUse{});
  }
}

Sampler::~Sampler() { Close(); }

// Under ctl_mu_. The shortest interval any holder asked for, never longer than a quarter of the
// shortest wrap time nor shorter than the rules allow; the union of the holders' CPU-time needs.
void Sampler::RecomputeLocked() {
  int64_t want = kIdleIntervalNs;
  CpuTimesUse use{false, false};
  if (!holders_.empty()) {
    want = rules_.max_interval_ns;
    for (const auto& h : holders_) {
      want = std::min(want, h.second.interval_ns);
      use.machine = use.machine || h.second.use.machine;
      use.process = use.process || h.second.use.process;
    }
  }
  want = std::min(want, wrap_cap_ns_);
  interval_ns_ = std::max(want, rules_.min_interval_ns);
  tick_use_ = use;
}

int64_t Sampler::EffectiveIntervalNs() {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  return interval_ns_;
}

// JS thread. Starts the thread on the first holder; wakes it only when what it does changed.
int Sampler::Acquire(int64_t interval_ns, CpuTimesUse use) {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  const int token = next_token_++;
  holders_[token] = Holder{interval_ns, use};
  const int64_t was_interval = interval_ns_;
  const CpuTimesUse was_use = tick_use_;
  RecomputeLocked();
  if (!thread_.joinable()) {
    stop_ = false;
    thread_running_.store(true);
    thread_ = std::thread(&Sampler::ThreadMain, this);
  } else if (interval_ns_ != was_interval || tick_use_.machine != was_use.machine ||
             tick_use_.process != was_use.process) {
    waiter_.Notify();
  }
  return token;
}

// JS thread. Stops and joins the thread when the last holder leaves.
void Sampler::Release(int token) {
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    if (holders_.erase(token) == 0) return;
    const int64_t was_interval = interval_ns_;
    const CpuTimesUse was_use = tick_use_;
    RecomputeLocked();
    if (!holders_.empty()) {
      if (interval_ns_ != was_interval || tick_use_.machine != was_use.machine ||
          tick_use_.process != was_use.process)
        waiter_.Notify();
      return;
    }
  }
  StopThread();
}

// JS thread. Wake the thread and join it; no lock held while joining.
void Sampler::StopThread() {
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    stop_ = true;
    waiter_.Notify();
  }
  if (thread_.joinable()) thread_.join();
  thread_running_.store(false);
}

// Sampling thread. Sleeps in waiter_ until the next tick (one futex wait on Linux, no lock);
// takes ctl_mu_ only when woken by a change (stop, interval, needs). Samples under read_mu_,
// publishes under snap_mu_. Catches everything: nothing escapes the thread.
void Sampler::ThreadMain() {
  int64_t interval = 0;
  CpuTimesUse use;
  uint32_t generation = 0;
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    if (stop_) return;
    interval = interval_ns_;
    use = tick_use_;
    generation = waiter_.Generation();
  }
  int64_t next = MonotonicNs() + interval;
  // CPU times change only every USER_HZ tick: ticks read them at most every
  // kCpuTimesMinPeriodNs, counted on the schedule (the deadlines), not on the wake-up times,
  // so that a late wake-up never makes the next tick skip its read.
  int64_t cpu_due = 0;
  for (;;) {
    if (waiter_.WaitUntil(generation, next)) {
      std::lock_guard<std::mutex> lk(ctl_mu_);
      if (stop_) return;
      interval = interval_ns_;
      use = tick_use_;
      generation = waiter_.Generation();
      next = std::min(next, MonotonicNs() + interval);
      continue;
    }
    const bool cpu_now = next >= cpu_due;
    if (cpu_now && (use.machine || use.process)) cpu_due = next + kCpuTimesMinPeriodNs;
    try {
      std::lock_guard<std::mutex> rl(read_mu_);
      if (!closed_.load()) SampleLocked(false, cpu_now ? use : CpuTimesUse{false, false});
    } catch (...) {
      // Allocation failure at worst; the next tick retries.
    }
    next += interval;
    const int64_t now = MonotonicNs();
    if (next <= now) next = now + interval;  // skip missed ticks
  }
}

// Under read_mu_. The load model integrates over the interval since the last proc/stat read,
// with u = the machine's busy share over that interval (an interval with no new ticks keeps
// the last u).
void Sampler::UpdateLoadModelLocked(const CpuRaw& cpu, int64_t t) {
  if (cpu.available && cpu_last_.available && cpu.machine_total > cpu_last_.machine_total) {
    const double dt = static_cast<double>(cpu.machine_total - cpu_last_.machine_total);
    const double db = cpu.machine_busy >= cpu_last_.machine_busy
                          ? static_cast<double>(cpu.machine_busy - cpu_last_.machine_busy) : 0;
    last_u_ = std::clamp(db / dt, 0.0, 1.0);
  }
  if (rules_.load_model && machine_read_ns_ != 0 && cpu.available) {
    const double factor = rules_.load_idle_share + (1 - rules_.load_idle_share) * std::pow(last_u_, rules_.load_exponent);
    load_model_s_ += factor * static_cast<double>(t - machine_read_ns_) / 1e9;
  }
}

// Under read_mu_ (sampling thread or JS thread). Reads every counter and the CPU times the
// sample needs (a fresh read: all; a tick: what `use` asks for), updates
// the accumulators, the load model and attribution, then publishes the snapshot and a ring
// entry under snap_mu_.
void Sampler::SampleLocked(bool fresh, CpuTimesUse use) {
  const size_t n = disc_.counters.size();
  for (size_t i = 0; i < n; ++i) ok_scratch_[i] = disc_.counters[i]->Read(&raw_scratch_[i]) ? 1 : 0;
  const int64_t t = MonotonicNs();
  for (size_t i = 0; i < n; ++i) acc_[i].Feed(ok_scratch_[i] != 0, raw_scratch_[i], t);

  // Attribution compares the process's times with the machine's: the process is never read alone.
  // (The thread passes `use` only on the ticks due for CPU times; see ThreadMain.)
  const bool read_process = fresh || use.process;
  const bool read_machine = read_process || use.machine;
  CpuRaw cpu = cpu_last_;
  if (read_machine && cpu_reader_) cpu_reader_->Read(&cpu, true, read_process, fresh);
  if (read_machine) {
    UpdateLoadModelLocked(cpu, t);
    machine_read_ns_ = t;
  }

  // Attribution: energy deltas wait in pending_uj_ until the machine's tick count moves (in a
  // sample that read both), then are attributed with the process's share of CPU time over
  // that whole window.
  bool attribute = false;
  double share = 0;
  if (read_process && cpu.available) {
    if (!cpu_have_base_) {
      cpu_attr_base_ = cpu;
      cpu_have_base_ = true;
    } else if (cpu.machine_total > cpu_attr_base_.machine_total) {
      const double m = static_cast<double>(cpu.machine_total - cpu_attr_base_.machine_total);
      const double p = cpu.process >= cpu_attr_base_.process
                           ? static_cast<double>(cpu.process - cpu_attr_base_.process) : 0;
      share = std::clamp(p / m, 0.0, 1.0);
      attribute = true;
      cpu_attr_base_ = cpu;
    }
  }
  cpu_last_ = cpu;

  std::lock_guard<std::mutex> sl(snap_mu_);
  snap_.t_ns = t;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t total = acc_[i].TotalUj();
    const uint64_t delta = total - last_total_[i];
    last_total_[i] = total;
    if (gpu_[i]) {
      attributed_[i] += delta;
    } else {
      pending_uj_[i] += delta;
      if (attribute) {
        attributed_[i] += static_cast<long double>(pending_uj_[i]) * share;
        pending_uj_[i] = 0;
      }
    }
    snap_.energy_uj[i] = total;
    snap_.attributed_uj[i] = static_cast<uint64_t>(attributed_[i]);
    counts_.per_domain[i] = acc_[i].counts();
  }
  const double hz = cpu.hz > 0 ? static_cast<double>(cpu.hz) : 100.0;
  snap_.cpu.available = cpu.available;
  snap_.cpu.machine_total_s = cpu.available ? cpu.machine_total / hz : 0;
  snap_.cpu.machine_busy_s = cpu.available ? cpu.machine_busy / hz : 0;
  snap_.cpu.process_s = cpu.available ? cpu.process / hz : 0;
  snap_.cpu.load_model_s = cpu.available ? load_model_s_ : 0;
  snap_.cpu.logical_cpus = cpu.available ? cpu.logical_cpus : 0;
  ++counts_.samples;
  ring_[ring_head_] = snap_;
  ring_head_ = (ring_head_ + 1) % kRingCapacity;
  ring_size_ = std::min(ring_size_ + 1, kRingCapacity);
}

// JS thread.
Snapshot Sampler::Read() {
  {
    std::lock_guard<std::mutex> lk(read_mu_);
    SampleLocked(true, CpuTimesUse{});
  }
  return Latest();
}

// JS thread. snap_mu_ only.
Snapshot Sampler::Latest() {
  std::lock_guard<std::mutex> lk(snap_mu_);
  return snap_;
}

// JS thread. snap_mu_ only. Samples are in time order, so the scan stops at the first newer one.
std::vector<Snapshot> Sampler::Recent(int64_t since_ns) {
  std::lock_guard<std::mutex> lk(snap_mu_);
  const size_t start = (ring_head_ + kRingCapacity - ring_size_) % kRingCapacity;
  size_t skip = 0;
  while (skip < ring_size_ && ring_[(start + skip) % kRingCapacity].t_ns <= since_ns) ++skip;
  std::vector<Snapshot> out;
  out.reserve(ring_size_ - skip);
  for (size_t k = skip; k < ring_size_; ++k) out.push_back(ring_[(start + k) % kRingCapacity]);
  return out;
}

SamplerCounts Sampler::Counts() {
  std::lock_guard<std::mutex> lk(snap_mu_);
  return counts_;
}

int Sampler::OpenFiles() {
  std::lock_guard<std::mutex> lk(read_mu_);
  if (closed_.load()) return 0;
  int n = disc_.shared_files;
  for (const auto& c : disc_.counters) n += c->OpenFiles();
  if (cpu_reader_) n += cpu_reader_->OpenFiles();
  return n;
}

// JS thread. Stop and join the thread, then close files and NVML (counters before resources).
void Sampler::Close() {
  if (closed_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    holders_.clear();
  }
  StopThread();
  std::lock_guard<std::mutex> lk(read_mu_);
  disc_.counters.clear();
  disc_.shared.clear();
  disc_.shared_files = 0;
  cpu_reader_.reset();
  disc_.resources.reset();
}

}  // namespace let
