// Baselines for bench/native.bench.ts: the CPU cost of a thread that only wakes every
// `interval_ms`, measured with CLOCK_THREAD_CPUTIME_ID. Compiled and run by the bench with g++.
//   mode "cv" (default): waits on a condition variable with a deadline (a futex wait and, on
//                        the way back into the wait, the mutex's futex wake: two system calls);
//   mode "sleep":        clock_nanosleep(TIMER_ABSTIME) to the next deadline (one system call:
//                        the barest periodic wake-up a thread can have).
//   usage: native-wake-floor <interval_ms> <seconds> [cv|sleep] → prints "<wakeups> <thread_cpu_ns> <wall_ns>"
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <atomic>
#include <mutex>
#include <thread>

int main(int argc, char** argv) {
  const long interval_ms = argc > 1 ? std::atol(argv[1]) : 1;
  const long seconds = argc > 2 ? std::atol(argv[2]) : 3;
  const bool sleep_mode = argc > 3 && std::strcmp(argv[3], "sleep") == 0;
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  long wakeups = 0;
  double cpu_ns = 0;
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<bool> stop_flag{false};
  std::thread t([&] {
    timespec a, b;
    if (sleep_mode) {
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
      timespec next;
      clock_gettime(CLOCK_MONOTONIC, &next);
      while (!stop_flag.load(std::memory_order_relaxed)) {
        next.tv_nsec += interval_ms * 1000000L;
        while (next.tv_nsec >= 1000000000L) {
          next.tv_nsec -= 1000000000L;
          ++next.tv_sec;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
        ++wakeups;
      }
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
      cpu_ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
      return;
    }
    std::unique_lock<std::mutex> lk(m);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    auto next = std::chrono::steady_clock::now();
    while (!stop) {
      next += std::chrono::milliseconds(interval_ms);
      cv.wait_until(lk, next, [&] { return stop; });
      ++wakeups;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    cpu_ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop_flag.store(true);
  {
    std::lock_guard<std::mutex> g(m);
    stop = true;
  }
  cv.notify_all();
  t.join();
  const double wall = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%ld %.0f %.0f\n", wakeups, cpu_ns, wall);
  return 0;
}
