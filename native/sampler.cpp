// See sampler.h for the thread and lock discipline.
#include "sampler.h"

#include <algorithm>
#include <chrono>

namespace let {

// steady_clock is CLOCK_MONOTONIC on Linux (libstdc++ and libc++).
int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

// Per counter: a GPU, attributed whole rather than by CPU share.
std::vector<char> GpuMask(const Discovered& d) {
  std::vector<char> gpu;
  for (const auto& c : d.counters) gpu.push_back(c->info.device == "gpu" ? 1 : 0);
  return gpu;
}

}  // namespace

// JS thread. Discovery, then one baseline sample so that totals start at 0 now.
Sampler::Sampler(const SamplerOptions& options, const SamplingRules& rules)
    : options_(options),
      rules_(rules),
      disc_(Discover(options)),
      attribution_(GpuMask(disc_)),
      load_model_(rules.load_model) {
  cpu_reader_ = MakeCpuTimesReader(options_);
  mem_reader_ = MakeMemoryReader();
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
  totals_.assign(n, 0);
  raw_scratch_.assign(n, 0);
  ok_scratch_.assign(n, 0);
  stats_.per_domain.assign(n, DomainStats{});
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

// Under ctl_mu_. Whether the thread must be woken: what it does is not what it should do.
bool Sampler::ChangeNeedsWakeLocked() const {
  return interval_ns_ != told_interval_ns_ || tick_use_.machine != told_use_.machine || tick_use_.process != told_use_.process;
}

// Under ctl_mu_. Give the thread the current settings and wake it to read them.
void Sampler::TellThreadLocked() {
  told_interval_ns_ = interval_ns_;
  told_use_ = tick_use_;
  waiter_.Notify();
}

// JS thread, ctl_mu_.
int64_t Sampler::EffectiveIntervalNs() {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  return interval_ns_;
}

// JS thread. Starts the thread on the first holder, takes it back from its park (waking it only
// when it is asleep), otherwise wakes it only when what it does changed.
int Sampler::Acquire(int64_t interval_ns, CpuTimesUse use) {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  const int token = next_token_++;
  holders_[token] = Holder{interval_ns, use};
  RecomputeLocked();
  if (!thread_.joinable()) {
    stop_ = parked_ = asleep_ = false;
    told_interval_ns_ = interval_ns_;
    told_use_ = tick_use_;
    thread_running_.store(true);
    thread_ = std::thread(&Sampler::ThreadMain, this);
    thread_starts_.fetch_add(1);
    return token;
  }
  if (parked_) {
    parked_ = false;
    thread_parked_.store(false);
    thread_running_.store(true);
  }
  if (asleep_ || ChangeNeedsWakeLocked()) TellThreadLocked();
  asleep_ = false;
  return token;
}

// JS thread. When the last holder leaves: parks the thread (`park`: it parks at its next tick,
// no wake-up now) or stops and joins it.
void Sampler::Release(int token, bool park) {
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    if (holders_.erase(token) == 0) return;
    RecomputeLocked();
    if (!holders_.empty()) {
      if (ChangeNeedsWakeLocked()) TellThreadLocked();
      return;
    }
    if (park && thread_.joinable() && !stop_) {
      parked_ = true;
      thread_running_.store(false);
      thread_parked_.store(true);
      return;
    }
  }
  StopThread();
}

// JS thread. Wake the thread (ticking, parked or asleep) and join it; no lock held while joining.
void Sampler::StopThread() {
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    stop_ = true;
    parked_ = asleep_ = false;
    waiter_.Notify();
  }
  if (thread_.joinable()) thread_.join();
  thread_running_.store(false);
  thread_parked_.store(false);
}

// Sampling thread. Sleeps in waiter_ until the next tick (one futex wait on Linux, no lock);
// takes ctl_mu_ only when woken by a change (stop, interval, needs) or on a tick while parked,
// where it takes no sample and waits with no deadline until Acquire or StopThread wakes it.
// Samples under read_mu_, publishes under snap_mu_. Catches everything: nothing escapes the thread.
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
    bool changed = waiter_.WaitUntil(generation, next);
    bool woke_from_park = false;
    if (!changed && thread_parked_.load()) {
      std::unique_lock<std::mutex> lk(ctl_mu_);
      if (stop_) return;
      if (parked_) {
        asleep_ = true;
        generation = waiter_.Generation();
        lk.unlock();
        waiter_.Wait(generation);  // no deadline: no CPU, no wake-up until Notify
        changed = woke_from_park = true;
      }
    }
    if (changed) {
      std::lock_guard<std::mutex> lk(ctl_mu_);
      if (stop_) return;
      interval = interval_ns_;
      use = tick_use_;
      generation = waiter_.Generation();
      // Back from its park: the first tick one interval from now, as for a new thread.
      next = woke_from_park ? MonotonicNs() + interval : std::min(next, MonotonicNs() + interval);
      continue;
    }
    const bool cpu_now = next >= cpu_due;
    if (cpu_now && (use.machine || use.process)) cpu_due = next + kCpuTimesMinPeriodNs;
    try {
      std::lock_guard<std::mutex> rl(read_mu_);
      if (!closed_.load()) SampleLocked(false, cpu_now ? use : kNoCpuTimes);
    } catch (...) {
      // Allocation failure at worst; the next tick retries.
    }
    next += interval;
    const int64_t now = MonotonicNs();
    if (next <= now) next = now + interval;  // skip missed ticks
  }
}

// Under read_mu_ (sampling thread or JS thread). One sample: every counter, the CPU times due
// (a fresh read: all; a tick: what `use` asks for), attribution, then the reading and a ring
// entry published under snap_mu_.
void Sampler::SampleLocked(bool fresh, CpuTimesUse use) {
  const int64_t t = ReadCountersLocked();
  const bool read_process = ReadCpuTimesLocked(fresh, use, t);
  attribution_.Feed(totals_, read_process ? &cpu_last_ : nullptr);
  PublishLocked(t);
}

// Under read_mu_. Reads every counter, feeds the accumulators and refreshes totals_; returns
// the time of the reads (CLOCK_MONOTONIC ns).
int64_t Sampler::ReadCountersLocked() {
  const size_t n = disc_.counters.size();
  for (size_t i = 0; i < n; ++i) ok_scratch_[i] = disc_.counters[i]->Read(&raw_scratch_[i]) ? 1 : 0;
  const int64_t t = MonotonicNs();
  for (size_t i = 0; i < n; ++i) {
    acc_[i].Feed(ok_scratch_[i] != 0, raw_scratch_[i], t);
    totals_[i] = acc_[i].TotalUj();
  }
  return t;
}

// Under read_mu_. Reads the CPU times this sample needs into cpu_last_ and feeds the load
// model with each machine read (a fresh read: all; a tick: what `use` asks for, which the
// thread passes only on the ticks due for CPU times; see ThreadMain). Attribution compares
// the process's times with the machine's, so the process is never read alone. Returns
// whether the process's times were read.
bool Sampler::ReadCpuTimesLocked(bool fresh, CpuTimesUse use, int64_t t) {
  const bool read_process = fresh || use.process;
  const bool read_machine = read_process || use.machine;
  if (!read_machine) return false;
  CpuRaw cpu = cpu_last_;
  if (cpu_reader_) cpu_reader_->Read(&cpu, true, read_process, fresh);
  load_model_.Feed(cpu_last_, cpu, t);
  cpu_last_ = cpu;
  return read_process;
}

// Under read_mu_; takes snap_mu_. Publishes the totals, the attributed energy and the CPU
// times as the latest reading and as a ring entry (copied into a presized entry: no allocation).
void Sampler::PublishLocked(int64_t t) {
  const CpuRaw& cpu = cpu_last_;
  std::lock_guard<std::mutex> sl(snap_mu_);
  snap_.t_ns = t;
  for (size_t i = 0; i < totals_.size(); ++i) {
    snap_.energy_uj[i] = totals_[i];
    snap_.attributed_uj[i] = attribution_.AttributedUj(i);
    stats_.per_domain[i] = acc_[i].stats();
  }
  const double hz = cpu.hz > 0 ? static_cast<double>(cpu.hz) : 100.0;
  snap_.cpu.available = cpu.available;
  snap_.cpu.machine_total_s = cpu.available ? cpu.machine_total / hz : 0;
  snap_.cpu.machine_busy_s = cpu.available ? cpu.machine_busy / hz : 0;
  snap_.cpu.process_s = cpu.available ? cpu.process / hz : 0;
  snap_.cpu.load_model_s = cpu.available ? load_model_.Seconds() : 0;
  snap_.cpu.logical_cpus = cpu.available ? cpu.logical_cpus : 0;
  ++stats_.samples;
  ring_[ring_head_] = snap_;
  ring_head_ = (ring_head_ + 1) % kRingCapacity;
  ring_size_ = std::min(ring_size_ + 1, kRingCapacity);
}

// JS thread. read_mu_ for the sample, then snap_mu_.
Reading Sampler::Read() {
  {
    std::lock_guard<std::mutex> lk(read_mu_);
    SampleLocked(true, CpuTimesUse{});
  }
  return Latest();
}

// JS thread. snap_mu_ only.
Reading Sampler::Latest() {
  std::lock_guard<std::mutex> lk(snap_mu_);
  return snap_;
}

// JS thread. snap_mu_ only. Samples are in time order, so the scan stops at the first newer one.
std::vector<Reading> Sampler::RecentSamples(int64_t since_ns) {
  std::lock_guard<std::mutex> lk(snap_mu_);
  const size_t start = (ring_head_ + kRingCapacity - ring_size_) % kRingCapacity;
  size_t skip = 0;
  while (skip < ring_size_ && ring_[(start + skip) % kRingCapacity].t_ns <= since_ns) ++skip;
  std::vector<Reading> out;
  out.reserve(ring_size_ - skip);
  for (size_t k = skip; k < ring_size_; ++k) out.push_back(ring_[(start + k) % kRingCapacity]);
  return out;
}

// JS thread. snap_mu_ only.
SamplerStats Sampler::Stats() {
  std::lock_guard<std::mutex> lk(snap_mu_);
  return stats_;
}

// JS thread. read_mu_.
int Sampler::OpenFiles() {
  std::lock_guard<std::mutex> lk(read_mu_);
  if (closed_.load()) return 0;
  int n = 0;
  for (const auto& r : disc_.resources) n += r->OpenFiles();
  for (const auto& c : disc_.counters) n += c->OpenFiles();
  if (cpu_reader_) n += cpu_reader_->OpenFiles();
  if (mem_reader_) n += mem_reader_->OpenFiles();
  return n;
}

// JS thread. Stop and join the thread (no lock held), then under read_mu_ close files and NVML
// (counters before the resources they borrow).
void Sampler::Close() {
  if (closed_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    holders_.clear();
  }
  StopThread();
  std::lock_guard<std::mutex> lk(read_mu_);
  disc_.counters.clear();
  cpu_reader_.reset();
  mem_reader_.reset();
  disc_.resources.clear();
}

}  // namespace let
