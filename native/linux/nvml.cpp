// NVIDIA GPU energy through NVML loaded at run time with dlopen. See nvml.h for the contract.
//
// Threads: Open, Devices, DriverVersion and the destructor run on the JavaScript thread (sampler
// open, probe and close). ReadEnergyMj, ReadPowerMw and Describe may run on any thread (the
// sampling thread and the JS thread's fresh reads); they only call NVML, which is thread-safe,
// through function pointers that never change after Open. No Node-API here.
#include "nvml.h"

#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>

#include "nvml_codes.h"

namespace let {

namespace {

using NvmlReturn = int;           // nvmlReturn_t
using NvmlDeviceHandle = void*;   // nvmlDevice_t

constexpr unsigned kNameBuffer = 96;    // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kUuidBuffer = 96;    // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kDriverBuffer = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

const char* const kDriverFix = "install or reinstall the NVIDIA driver (it provides libnvidia-ml.so.1)";

// A fixed-size NVML string buffer to std::string (NVML NUL-terminates, but do not trust it).
std::string FromBuffer(const char* buf, size_t size) { return std::string(buf, strnlen(buf, size)); }

std::string GpuTarget(unsigned index, const std::string& uuid) {
  std::string t = "GPU " + std::to_string(index);
  if (!uuid.empty()) t += " " + uuid;
  return t;
}

// A GPU as enumerated, before selection.
struct Enumerated {
  NvmlDevice device;
  int handle_rc = 0;  // nvmlDeviceGetHandleByIndex_v2 result
};

}  // namespace

struct NvmlLibrary::Api {
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  NvmlReturn (*driver_version)(char*, unsigned) = nullptr;
  NvmlReturn (*count)(unsigned*) = nullptr;
  NvmlReturn (*handle_by_index)(unsigned, NvmlDeviceHandle*) = nullptr;
  NvmlReturn (*name)(NvmlDeviceHandle, char*, unsigned) = nullptr;
  NvmlReturn (*uuid)(NvmlDeviceHandle, char*, unsigned) = nullptr;
  NvmlReturn (*total_energy)(NvmlDeviceHandle, unsigned long long*) = nullptr;
  NvmlReturn (*power_usage)(NvmlDeviceHandle, unsigned*) = nullptr;
  NvmlReturn (*power_limit)(NvmlDeviceHandle, unsigned*) = nullptr;
  bool initialized = false;  // nvmlInit succeeded: the destructor owes exactly one nvmlShutdown
};

namespace {

// JS thread. The first of `names` that the library exports, or nullptr.
template <typename Fn>
Fn Resolve(void* dl, std::initializer_list<const char*> names, const char** found) {
  for (const char* n : names) {
    dlerror();
    void* sym = dlsym(dl, n);
    if (sym != nullptr) {
      if (found != nullptr) *found = n;
      return reinterpret_cast<Fn>(sym);
    }
  }
  return nullptr;
}

}  // namespace

// JS thread.
std::unique_ptr<NvmlLibrary> NvmlLibrary::Open(const std::string& path, NvmlProblem* problem,
                                                bool* absent) {
  NvmlProblem scratch;
  bool absent_scratch = false;
  if (problem == nullptr) problem = &scratch;
  if (absent == nullptr) absent = &absent_scratch;
  *problem = NvmlProblem{};
  problem->target = "nvml";
  *absent = false;

  const std::string lib = path.empty() ? std::string("libnvidia-ml.so.1") : path;
  dlerror();
  void* dl = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (dl == nullptr) {
    const char* err = dlerror();
    const std::string why = err != nullptr ? err : "unknown dlopen error";
    if (lib.find('/') != std::string::npos) {
      // An explicit path: absent when the file does not exist at all.
      *absent = access(lib.c_str(), F_OK) != 0 && errno == ENOENT;
    } else {
      // A bare name searched by the dynamic loader: absent when no directory holds it.
      *absent = why.find("No such file or directory") != std::string::npos;
    }
    if (*absent) {
      problem->reason = "NVML library " + lib + " not found (" + why + "): no NVIDIA driver installed";
      problem->fix = kDriverFix;
    } else {
      problem->reason = "cannot load NVML library " + lib + ": " + why;
      problem->fix = "reinstall the NVIDIA driver so that libnvidia-ml.so.1 matches this machine's architecture";
    }
    return nullptr;
  }

  std::unique_ptr<NvmlLibrary> self(new NvmlLibrary());
  self->dl_ = dl;  // from here on the destructor dlcloses (and shuts down once initialised)
  self->api_.reset(new Api());
  Api& a = *self->api_;
  const char* init_name = nullptr;
  a.init = Resolve<decltype(a.init)>(dl, {"nvmlInit_v2", "nvmlInit"}, &init_name);
  a.shutdown = Resolve<decltype(a.shutdown)>(dl, {"nvmlShutdown"}, nullptr);
  a.error_string = Resolve<decltype(a.error_string)>(dl, {"nvmlErrorString"}, nullptr);
  a.driver_version = Resolve<decltype(a.driver_version)>(dl, {"nvmlSystemGetDriverVersion"}, nullptr);
  a.count = Resolve<decltype(a.count)>(dl, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}, nullptr);
  a.handle_by_index = Resolve<decltype(a.handle_by_index)>(
      dl, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"}, nullptr);
  a.name = Resolve<decltype(a.name)>(dl, {"nvmlDeviceGetName"}, nullptr);
  a.uuid = Resolve<decltype(a.uuid)>(dl, {"nvmlDeviceGetUUID"}, nullptr);
  a.total_energy = Resolve<decltype(a.total_energy)>(dl, {"nvmlDeviceGetTotalEnergyConsumption"}, nullptr);
  a.power_usage = Resolve<decltype(a.power_usage)>(dl, {"nvmlDeviceGetPowerUsage"}, nullptr);
  a.power_limit = Resolve<decltype(a.power_limit)>(dl, {"nvmlDeviceGetPowerManagementLimit"}, nullptr);

  std::string missing;
  if (a.init == nullptr) missing += " nvmlInit_v2";
  if (a.shutdown == nullptr) missing += " nvmlShutdown";
  if (a.count == nullptr) missing += " nvmlDeviceGetCount_v2";
  if (a.handle_by_index == nullptr) missing += " nvmlDeviceGetHandleByIndex_v2";
  if (a.total_energy == nullptr && a.power_usage == nullptr) {
    missing += " nvmlDeviceGetTotalEnergyConsumption nvmlDeviceGetPowerUsage";
  }
  if (!missing.empty()) {
    problem->reason = "NVML library " + lib + " lacks required functions:" + missing;
    problem->fix = "upgrade the NVIDIA driver (or point LET_NVML_LIBRARY at the driver's libnvidia-ml.so.1)";
    return nullptr;  // destructor: no shutdown (never initialised), dlclose
  }

  const int rc = a.init();
  if (rc != nvml_codes::kSuccess) {
    problem->reason = nvml_codes::Reason(rc) + " (" + init_name + " in " + lib + ")";
    const std::string fix = nvml_codes::Info(rc).fix;
    problem->fix = fix;
    return nullptr;  // destructor: no shutdown (init failed), dlclose
  }
  a.initialized = true;
  return self;
}

// JS thread (sampler close). nvmlShutdown exactly once per successful init, then dlclose.
NvmlLibrary::~NvmlLibrary() {
  if (api_ && api_->initialized && api_->shutdown != nullptr) {
    api_->shutdown();
    api_->initialized = false;
  }
  api_.reset();
  if (dl_ != nullptr) {
    dlclose(dl_);
    dl_ = nullptr;
  }
}

// JS thread. Enumerates every GPU, then keeps the selected ones; see nvml.h.
std::vector<NvmlDevice> NvmlLibrary::Devices(const std::vector<std::string>& selectors,
                                             std::vector<NvmlProblem>* problems) const {
  std::vector<NvmlProblem> scratch;
  if (problems == nullptr) problems = &scratch;
  std::vector<NvmlDevice> out;
  const Api& a = *api_;

  unsigned count = 0;
  int rc = a.count(&count);
  if (rc != nvml_codes::kSuccess) {
    problems->push_back({"nvml", nvml_codes::Reason(rc) + " (nvmlDeviceGetCount_v2)", nvml_codes::Info(rc).fix});
    return out;
  }

  std::vector<Enumerated> all(count);
  for (unsigned i = 0; i < count; ++i) {
    Enumerated& e = all[i];
    e.device.index = i;
    NvmlDeviceHandle h = nullptr;
    e.handle_rc = a.handle_by_index(i, &h);
    if (e.handle_rc != nvml_codes::kSuccess) continue;
    e.device.handle = h;
    char buf[kNameBuffer > kUuidBuffer ? kNameBuffer : kUuidBuffer];
    std::memset(buf, 0, sizeof buf);
    if (a.name != nullptr && a.name(h, buf, kNameBuffer) == nvml_codes::kSuccess) {
      e.device.name = FromBuffer(buf, kNameBuffer);
    }
    if (e.device.name.empty()) e.device.name = "NVIDIA GPU " + std::to_string(i);
    std::memset(buf, 0, sizeof buf);
    if (a.uuid != nullptr && a.uuid(h, buf, kUuidBuffer) == nvml_codes::kSuccess) {
      e.device.uuid = FromBuffer(buf, kUuidBuffer);
    }
  }

  std::vector<GpuIdentity> identities(count);
  for (unsigned i = 0; i < count; ++i) identities[i] = {all[i].device.name, all[i].device.uuid};
  const std::vector<bool> chosen = SelectGpus(identities, selectors, problems);

  for (unsigned i = 0; i < count; ++i) {
    if (!chosen[i]) continue;
    Enumerated& e = all[i];
    NvmlDevice& d = e.device;
    if (e.handle_rc != nvml_codes::kSuccess) {
      problems->push_back({GpuTarget(i, ""), nvml_codes::Reason(e.handle_rc) + " (nvmlDeviceGetHandleByIndex_v2)",
                           nvml_codes::Info(e.handle_rc).fix});
      continue;
    }
    // Probe once for the energy counter, then for power (the fallback).
    int energy_rc = nvml_codes::kFunctionNotFound;
    if (a.total_energy != nullptr) {
      unsigned long long mj = 0;
      energy_rc = a.total_energy(d.handle, &mj);
    }
    d.has_energy_counter = energy_rc == nvml_codes::kSuccess;
    int power_rc = nvml_codes::kFunctionNotFound;
    if (a.power_usage != nullptr) {
      unsigned mw = 0;
      power_rc = a.power_usage(d.handle, &mw);
    }
    d.has_power = power_rc == nvml_codes::kSuccess;
    unsigned limit = 0;
    if (a.power_limit != nullptr && a.power_limit(d.handle, &limit) == nvml_codes::kSuccess) {
      d.power_limit_mw = limit;
    }
    if (!d.has_energy_counter && !d.has_power) {
      // Prefer the power query's fix: NOT_SUPPORTED on the counter alone is expected (pre-Volta).
      const int worst = power_rc != nvml_codes::kNotSupported ? power_rc : energy_rc;
      std::string fix = nvml_codes::Info(worst).fix;
      if (fix.empty()) fix = "none: this GPU reports neither energy nor power to NVML";
      problems->push_back({GpuTarget(i, d.uuid),
                           d.name + " cannot be measured: energy counter: " + nvml_codes::Reason(energy_rc) +
                               "; power: " + nvml_codes::Reason(power_rc),
                           fix});
      continue;
    }
    out.push_back(d);
  }
  return out;
}

// Any thread (sampling thread or JS thread).
int NvmlLibrary::ReadEnergyMj(void* handle, uint64_t* millijoules) const {
  if (handle == nullptr || millijoules == nullptr) return nvml_codes::kInvalidArgument;
  if (api_->total_energy == nullptr) return nvml_codes::kNotSupported;
  unsigned long long mj = 0;
  const int rc = api_->total_energy(handle, &mj);
  if (rc == nvml_codes::kSuccess) *millijoules = static_cast<uint64_t>(mj);
  return rc;
}

// Any thread (sampling thread or JS thread).
int NvmlLibrary::ReadPowerMw(void* handle, unsigned* milliwatts) const {
  if (handle == nullptr || milliwatts == nullptr) return nvml_codes::kInvalidArgument;
  if (api_->power_usage == nullptr) return nvml_codes::kNotSupported;
  unsigned mw = 0;
  const int rc = api_->power_usage(handle, &mw);
  if (rc == nvml_codes::kSuccess) *milliwatts = mw;
  return rc;
}

// Any thread. "NVML_ERROR_DRIVER_NOT_LOADED (9): Driver Not Loaded" (nvmlErrorString's text,
// or our own words when the library has none).
std::string NvmlLibrary::Describe(int code) const {
  const nvml_codes::CodeInfo& info = nvml_codes::Info(code);
  std::string out = code == nvml_codes::kSuccess ? "NVML_SUCCESS" : std::string("NVML_ERROR_") + info.name;
  out += " (" + std::to_string(code) + "): ";
  const char* text = api_ && api_->error_string != nullptr ? api_->error_string(code) : nullptr;
  out += text != nullptr && *text != '\0' ? text : info.meaning;
  return out;
}

// JS thread.
std::string NvmlLibrary::DriverVersion() const {
  if (!api_ || api_->driver_version == nullptr) return "";
  char buf[kDriverBuffer];
  std::memset(buf, 0, sizeof buf);
  if (api_->driver_version(buf, kDriverBuffer) != nvml_codes::kSuccess) return "";
  return FromBuffer(buf, kDriverBuffer);
}

}  // namespace let
