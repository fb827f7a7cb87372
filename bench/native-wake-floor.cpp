// Baseline for bench/native.bench.ts: the CPU cost of a thread that only waits on a condition
// variable with a deadline every `interval_ms` (what the sampling thread does between samples),
// measured with CLOCK_THREAD_CPUTIME_ID. Compiled and run by the bench when g++ is available.
//   usage: native-wake-floor <interval_ms> <seconds>   → prints "<wakeups> <thread_cpu_ns> <wall_ns>"
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

int main(int argc, char** argv) {
  const long interval_ms = argc > 1 ? std::atol(argv[1]) : 1;
  const long seconds = argc > 2 ? std::atol(argv[2]) : 3;
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  long wakeups = 0;
  double cpu_ns = 0;
  const auto t0 = std::chrono::steady_clock::now();
  std::thread t([&] {
    std::unique_lock<std::mutex> lk(m);
    timespec a, b;
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
