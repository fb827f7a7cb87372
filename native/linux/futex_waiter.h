// Linux: the sampling thread's timed wait, one futex word and no mutex. A tick that times out
// costs exactly one system call (FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline);
// nothing is woken or unlocked when nobody changed anything.
//
// Threads: WaitUntil runs on the sampling thread only; Notify on the JavaScript thread (after it
// changed the sampler's control state under Sampler::ctl_mu_). No lock is held by either.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>

namespace let {

class Waiter {
 public:
  // The generation to pass to WaitUntil: read it together with the control state it guards.
  uint32_t Generation() const { return gen_.load(std::memory_order_acquire); }

  // Sampling thread. Sleeps until `deadline_ns` (CLOCK_MONOTONIC) unless the generation moves
  // away from `seen`. Returns true when it did (Notify was called), false on the deadline.
  bool WaitUntil(uint32_t seen, int64_t deadline_ns) {
    timespec at{};
    at.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    at.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    for (;;) {
      if (gen_.load(std::memory_order_acquire) != seen) return true;
      const long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&gen_), FUTEX_WAIT_BITSET_PRIVATE, seen, &at,
                             nullptr, FUTEX_BITSET_MATCH_ANY);
      if (r == 0) continue;  // woken (or spuriously): the generation check above decides
      if (errno == ETIMEDOUT) return gen_.load(std::memory_order_acquire) != seen;
      if (errno == EAGAIN) return true;  // the generation had already moved
      // EINTR: wait again until the same deadline.
    }
  }

  // JavaScript thread. Wakes the sampling thread to re-read the control state.
  void Notify() {
    gen_.fetch_add(1, std::memory_order_acq_rel);
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&gen_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

 private:
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word must be 32 bits");
  std::atomic<uint32_t> gen_{0};
};

}  // namespace let
