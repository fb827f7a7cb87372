// NVIDIA GPUs as sampler counters: the energy counter (mJ) or, where a GPU has none, its power
// (mW) integrated by the Accumulator; and the discovery that opens NVML and makes them.
//
// Threads: DiscoverNvml runs on the JavaScript thread during sampler construction. The
// counters' Read() runs under Sampler::read_mu_ (sampling thread or JS thread's fresh reads).
// The NvmlLibrary is owned by the discovery result (NvmlResources), which the Sampler destroys
// after the counters, on the JS thread (nvmlShutdown and dlclose in ~NvmlLibrary).
#include <memory>

#include "../platform.h"
#include "nvml.h"

namespace let {

namespace {

// Owns the NVML library for the sampler's lifetime; the Sampler destroys it after the counters
// (nvmlShutdown and dlclose happen in ~NvmlLibrary, on the JS thread, in Sampler::Close).
struct NvmlResources final : Resource {
  std::unique_ptr<NvmlLibrary> lib;
};

// Total energy counter, mJ (64-bit; a decrease is a reset, handled by the Accumulator).
class NvmlEnergyCounter final : public Counter {
 public:
  NvmlEnergyCounter(const NvmlLibrary* lib, void* handle) : lib_(lib), handle_(handle) {}
  bool Read(uint64_t* raw) override { return lib_->ReadEnergyMj(handle_, raw) == 0; }
  int OpenFiles() const override { return 0; }

 private:
  const NvmlLibrary* lib_;
  void* handle_;
};

// Power in mW, integrated by trapezoid by the Accumulator in exact integer arithmetic.
class NvmlPowerCounter final : public Counter {
 public:
  NvmlPowerCounter(const NvmlLibrary* lib, void* handle) : lib_(lib), handle_(handle) {}
  bool Read(uint64_t* raw) override {
    unsigned mw = 0;
    if (lib_->ReadPowerMw(handle_, &mw) != 0) return false;
    *raw = mw;
    return true;
  }
  int OpenFiles() const override { return 0; }

 private:
  const NvmlLibrary* lib_;
  void* handle_;
};

}  // namespace

void DiscoverNvml(const SamplerOptions& o, Discovered* out) {
  if (o.nvml_library.empty()) return;  // disabled
  NvmlProblem problem;
  bool absent = false;
  std::unique_ptr<NvmlLibrary> lib = NvmlLibrary::Open(o.nvml_library, &problem, &absent);
  if (!lib) {
    if (!absent) out->unavailable.push_back({"nvml", problem.target, problem.reason, problem.fix});
    return;
  }
  out->nvml_loaded = true;
  out->nvml_driver_version = lib->DriverVersion();
  std::vector<NvmlProblem> problems;
  const std::vector<NvmlDevice> devices = lib->Devices(o.gpu_ids, &problems);
  for (const NvmlProblem& p : problems) out->unavailable.push_back({"nvml", p.target, p.reason, p.fix});
  for (const NvmlDevice& d : devices) {
    std::unique_ptr<Counter> c;
    if (d.has_energy_counter) {
      c = std::make_unique<NvmlEnergyCounter>(lib.get(), d.handle);
      c->info.method = "nvml-energy";
      c->info.resolution_uj = 1000;
      c->info.update_period_ms = 100;
      c->mode = CounterMode::kMonotonic;
      c->mul = 1000;  // mJ → µJ
      c->div = 1;
    } else {  // Devices() keeps only GPUs with an energy counter or power
      c = std::make_unique<NvmlPowerCounter>(lib.get(), d.handle);
      c->info.method = "nvml-power";
      c->info.resolution_uj = 1;
      c->info.update_period_ms = 100;
      c->mode = CounterMode::kPower;
      c->mul = 1;
      c->div = 2'000'000;  // Σ (p0 + p1)·dt in mW·ns is twice the area in 10^-6 µJ
    }
    DomainInfo& info = c->info;
    info.id = "nvml:" + d.uuid;
    info.device = "gpu";
    info.kind = "gpu";
    info.name = d.name;
    info.index = static_cast<int>(d.index);
    info.die = -1;
    info.wrap_range_uj = 0;
    info.source = "nvml";
    info.uuid = d.uuid;
    out->counters.push_back(std::move(c));
  }
  auto res = std::make_shared<NvmlResources>();
  res->lib = std::move(lib);
  out->resources.push_back(std::move(res));
}

}  // namespace let
