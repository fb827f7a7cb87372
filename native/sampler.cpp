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

// JS thread. Discovery, then one baseline sample so that totals start at 0 now.
Sampler::Sampler(const SamplerOptions& options) : options_(options), disc_(Discover(options)) {
  cpu_reader_ = MakeCpuTimesReader(options_);
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
    SampleLocked(true);
  }
  interval_ns_ = ComputeIntervalLocked();
}

Sampler::~Sampler() { Close(); }

// Under ctl_mu_ (or before the thread exists).
int64_t Sampler::ComputeIntervalLocked() const {
  int64_t want = kDefaultIntervalNs;
  if (!holders_.empty()) {
    want = kMaxIntervalNs;
    for (const auto& h : holders_) want = std::min(want, h.second);
  }
  want = std::min(want, wrap_cap_ns_);
  return std::max(want, kMinIntervalNs);
}

int64_t Sampler::EffectiveIntervalNs() {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  return interval_ns_;
}

// JS thread. Starts the thread on the first holder.
int Sampler::Acquire(int64_t interval_ns) {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  const int token = next_token_++;
  holders_[token] = interval_ns;
  interval_ns_ = ComputeIntervalLocked();
  if (!thread_.joinable()) {
    stop_ = false;
    interval_changed_ = false;
    thread_running_.store(true);
    thread_ = std::thread(&Sampler::ThreadMain, this);
  } else {
    interval_changed_ = true;
    cv_.notify_all();
  }
  return token;
}

// JS thread. Stops and joins the thread when the last holder leaves.
void Sampler::Release(int token) {
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    if (holders_.erase(token) == 0) return;
    interval_ns_ = ComputeIntervalLocked();
    if (!holders_.empty()) {
      interval_changed_ = true;
      cv_.notify_all();
      return;
    }
  }
  StopThread();
}

// JS thread. Wake the thread (condition variable) and join it; no lock held while joining.
void Sampler::StopThread() {
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  thread_running_.store(false);
}

// Sampling thread. Sleeps on cv_ (woken at once by StopThread or an interval change), samples
// under read_mu_, publishes under snap_mu_. Catches everything: nothing escapes the thread.
void Sampler::ThreadMain() {
  using clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lk(ctl_mu_);
  auto next = clock::now() + std::chrono::nanoseconds(interval_ns_);
  while (!stop_) {
    if (cv_.wait_until(lk, next, [this] { return stop_ || interval_changed_; })) {
      if (stop_) break;
      interval_changed_ = false;
      next = std::min(next, clock::now() + std::chrono::nanoseconds(interval_ns_));
      continue;
    }
    const int64_t interval = interval_ns_;
    lk.unlock();
    try {
      std::lock_guard<std::mutex> rl(read_mu_);
      if (!closed_.load()) SampleLocked(false);
    } catch (...) {
      // Allocation failure at worst; the next tick retries.
    }
    lk.lock();
    next += std::chrono::nanoseconds(interval);
    const auto now = clock::now();
    if (next <= now) next = now + std::chrono::nanoseconds(interval);  // skip missed ticks
  }
}

// Under read_mu_ (sampling thread or JS thread). Reads every counter and (at most every 10 ms
// on the thread, always on a fresh read) the CPU times, updates the accumulators, attribution,
// the load model, then publishes the snapshot and a ring entry under snap_mu_.
void Sampler::SampleLocked(bool force_cpu) {
  const size_t n = disc_.counters.size();
  for (size_t i = 0; i < n; ++i) ok_scratch_[i] = disc_.counters[i]->Read(&raw_scratch_[i]) ? 1 : 0;
  const int64_t t = MonotonicNs();
  for (size_t i = 0; i < n; ++i) acc_[i].Feed(ok_scratch_[i] != 0, raw_scratch_[i], t);

  const bool read_cpu = force_cpu || !cpu_have_base_ || t - cpu_last_read_ns_ >= kCpuTimesMinPeriodNs;
  CpuRaw cpu = cpu_last_;
  if (read_cpu && cpu_reader_) {
    cpu_reader_->Read(&cpu);
    cpu_last_read_ns_ = t;
  }

  // Load model: u = busy share of the machine over the interval since the last CPU read that
  // moved; intervals with no new ticks keep the last u.
  if (cpu.available && cpu_last_.available && cpu.machine_total > cpu_last_.machine_total) {
    const double dt = static_cast<double>(cpu.machine_total - cpu_last_.machine_total);
    const double db = cpu.machine_busy >= cpu_last_.machine_busy
                          ? static_cast<double>(cpu.machine_busy - cpu_last_.machine_busy) : 0;
    last_u_ = std::clamp(db / dt, 0.0, 1.0);
  }
  if (last_sample_ns_ != 0 && cpu.available) {
    const double dt_s = static_cast<double>(t - last_sample_ns_) / 1e9;
    load_model_s_ += (0.1 + 0.9 * last_u_ * last_u_ * last_u_) * dt_s;
  }
  last_sample_ns_ = t;

  // Attribution: energy deltas wait in pending_uj_ until the machine's tick count moves, then
  // are attributed with the process's share of CPU time over that whole window.
  bool attribute = false;
  double share = 0;
  if (cpu.available) {
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
    if (disc_.counters[i]->info.device == "gpu") {
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
    SampleLocked(true);
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
