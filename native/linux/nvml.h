// NVIDIA GPU energy through NVML, loaded at run time with dlopen (no CUDA or NVML headers at
// build time). The library wrapper (nvml.cpp), GPU selection (nvml_select.cpp) and the sampler
// counters with their discovery (nvml_counters.cpp). One NvmlLibrary per sampler is owned by the
// discovery result (Discovered::resources) and read from the sampling thread and from the JS
// thread under the sampler's read mutex.
//
// Thread safety: NVML itself is thread-safe. NvmlLibrary is immutable after Open() except for
// construction/destruction, which run on the JavaScript thread (sampler open/close). The Read*
// methods may be called from any thread; callers serialise reads per device anyway.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace let {

struct SamplerOptions;
struct Discovered;

// One GPU selected for measurement.
struct NvmlDevice {
  unsigned index = 0;          // NVML index (not the CUDA index)
  std::string name;            // nvmlDeviceGetName, e.g. "NVIDIA H200"
  std::string uuid;            // nvmlDeviceGetUUID, e.g. "GPU-8f3c…"
  bool has_energy_counter = false;  // nvmlDeviceGetTotalEnergyConsumption works (Volta+)
  bool has_power = false;           // nvmlDeviceGetPowerUsage works
  unsigned power_limit_mw = 0;      // nvmlDeviceGetPowerManagementLimit, 0 if unknown
  void* handle = nullptr;           // nvmlDevice_t
};

// A GPU or the library itself that exists but cannot be used, with an actionable reason.
struct NvmlProblem {
  std::string target;  // "nvml" or "GPU <index> <uuid>"
  std::string reason;  // e.g. "NVML returned DRIVER_NOT_LOADED (9): the NVIDIA kernel driver is not loaded"
  std::string fix;     // e.g. "load the driver: sudo modprobe nvidia", or "" when none
};

class NvmlLibrary {
 public:
  // JS thread. dlopen(path) (RTLD_NOW | RTLD_LOCAL), resolve the _v2 entry points, nvmlInit_v2.
  // Returns nullptr and fills *problem when the library is missing (problem->reason says what
  // was tried; a missing library on a machine without NVIDIA GPUs is not an error the caller
  // reports as a sensor problem: *absent is set true in that case), a symbol is missing, or
  // init fails (the NVML return code by name and number, with a fix).
  static std::unique_ptr<NvmlLibrary> Open(const std::string& path, NvmlProblem* problem, bool* absent);

  // JS thread. nvmlShutdown then dlclose (exactly one shutdown per successful init).
  ~NvmlLibrary();

  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  // JS thread. Enumerate GPUs. selectors empty = all; otherwise each selector is an NVML index
  // ("0") or a UUID or UUID prefix ("GPU-1a2b"); a selector that matches nothing is a problem.
  // Each GPU is probed once for the energy counter and for power.
  std::vector<NvmlDevice> Devices(const std::vector<std::string>& selectors,
                                  std::vector<NvmlProblem>* problems) const;

  // Any thread. Total energy since driver load, millijoules. Returns the NVML return code (0 = ok).
  int ReadEnergyMj(void* handle, uint64_t* millijoules) const;
  // Any thread. Current power, milliwatts. Returns the NVML return code (0 = ok).
  int ReadPowerMw(void* handle, unsigned* milliwatts) const;

  // "NVML_ERROR_DRIVER_NOT_LOADED"-style name for a return code, plus nvmlErrorString text.
  std::string Describe(int code) const;
  // nvmlSystemGetDriverVersion, or "" when unavailable.
  std::string DriverVersion() const;

 private:
  NvmlLibrary() = default;
  struct Api;                  // resolved function pointers
  void* dl_ = nullptr;
  std::unique_ptr<Api> api_;
};

// A GPU's identity as enumerated, before selection.
struct GpuIdentity {
  std::string name;
  std::string uuid;
};

// Pure (JS thread, discovery). Which of `gpus` the selectors choose: empty = all; each selector
// an NVML index ("0") or a UUID or UUID prefix ("GPU-1a2b"), case-insensitive. A selector that
// matches nothing, or several GPUs, adds a problem listing the GPUs.
std::vector<bool> SelectGpus(const std::vector<GpuIdentity>& gpus, const std::vector<std::string>& selectors,
                             std::vector<NvmlProblem>* problems);

// JS thread, sampler construction. Opens NVML (options.nvml_library; "" = disabled), adds one
// counter per selected GPU to out->counters (the energy counter, else integrated power) and
// every problem to out->unavailable; out->resources keeps the library open for the counters.
void DiscoverNvml(const SamplerOptions& options, Discovered* out);

}  // namespace let
