// NVML return codes (nvmlReturn_t) by name, with what each means to a person and how to fix it.
// Private helper of native/linux/nvml.cpp (header-only so binding.gyp need not list it).
// Pure functions over constant tables: safe on any thread.
#pragma once

#include <string>

namespace let {
namespace nvml_codes {

enum : int {
  kSuccess = 0,
  kUninitialized = 1,
  kInvalidArgument = 2,
  kNotSupported = 3,
  kNoPermission = 4,
  kAlreadyInitialized = 5,
  kNotFound = 6,
  kInsufficientSize = 7,
  kInsufficientPower = 8,
  kDriverNotLoaded = 9,
  kTimeout = 10,
  kIrqIssue = 11,
  kLibraryNotFound = 12,
  kFunctionNotFound = 13,
  kCorruptedInforom = 14,
  kGpuIsLost = 15,
  kResetRequired = 16,
  kOperatingSystem = 17,
  kLibRmVersionMismatch = 18,
  kUnknown = 999,
};

struct CodeInfo {
  int code;
  const char* name;     // without the NVML_ERROR_ / NVML_ prefix
  const char* meaning;  // in words, for a person
  const char* fix;      // the step that fixes it, or "" when none exists
};

// Any thread. The entry for `code`; unknown codes get a generic entry with name "UNKNOWN_CODE".
inline const CodeInfo& Info(int code) {
  static const CodeInfo kTable[] = {
      {0, "SUCCESS", "success", ""},
      {1, "UNINITIALIZED", "NVML was not initialised (nvmlInit_v2 not called or already shut down)",
       "this is a bug in lamarr-energy-tracker: please report it"},
      {2, "INVALID_ARGUMENT", "an argument passed to NVML was invalid",
       "this is a bug in lamarr-energy-tracker: please report it"},
      {3, "NOT_SUPPORTED", "the GPU does not support this query (energy counter needs Volta or newer; many vGPUs lack it)",
       ""},
      {4, "NO_PERMISSION", "this user may not access the GPU (no permission on /dev/nvidiactl or /dev/nvidia<N>)",
       "run as a user with read/write access to /dev/nvidiactl and /dev/nvidia* (e.g. add the user to the "
       "group owning them: ls -l /dev/nvidia*), or in a container pass the devices through (--gpus all)"},
      {5, "ALREADY_INITIALIZED", "NVML was already initialised", ""},
      {6, "NOT_FOUND", "the GPU or object was not found", "check the GPU list with nvidia-smi -L"},
      {7, "INSUFFICIENT_SIZE", "a buffer passed to NVML was too small",
       "this is a bug in lamarr-energy-tracker: please report it"},
      {8, "INSUFFICIENT_POWER", "the GPU's external power cables are not connected properly",
       "check the GPU's power connectors, then reboot"},
      {9, "DRIVER_NOT_LOADED", "the NVIDIA kernel driver is not loaded",
       "load it (sudo modprobe nvidia) or reinstall the driver"},
      {10, "TIMEOUT", "the GPU did not answer in time", "check dmesg for NVRM/Xid errors; reset the GPU or reboot"},
      {11, "IRQ_ISSUE", "the NVIDIA kernel driver saw an interrupt problem with the GPU",
       "check dmesg for NVRM errors; reboot if it persists"},
      {12, "LIBRARY_NOT_FOUND", "NVML could not find a library it needs",
       "reinstall the NVIDIA driver (it ships libnvidia-ml.so.1)"},
      {13, "FUNCTION_NOT_FOUND", "the NVML library lacks a function (driver too old)", "upgrade the NVIDIA driver"},
      {14, "CORRUPTED_INFOROM", "the GPU's infoROM is corrupted",
       "inspect with nvidia-smi -q; the GPU may need service from its vendor"},
      {15, "GPU_IS_LOST", "the GPU has fallen off the bus or is otherwise inaccessible",
       "check dmesg for Xid 79, power and cooling; reset the GPU (sudo nvidia-smi -r) or reboot"},
      {16, "RESET_REQUIRED", "the GPU needs a reset before it can be used again",
       "reset it (sudo nvidia-smi -r -i <index>) or reboot"},
      {17, "OPERATING_SYSTEM", "the operating system blocked the NVML call",
       "check dmesg and security policies (SELinux/AppArmor, container device rules)"},
      {18, "LIB_RM_VERSION_MISMATCH", "the NVML library and the loaded NVIDIA kernel driver have different versions",
       "reboot, or reload the driver (sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe "
       "nvidia), after a driver upgrade"},
      {19, "IN_USE", "the GPU is in use by another operation", "retry later"},
      {20, "MEMORY", "NVML ran out of memory", "free memory and retry"},
      {21, "NO_DATA", "NVML has no data for this query yet", "retry later"},
      {22, "VGPU_ECC_NOT_SUPPORTED", "ECC is not supported on this vGPU", ""},
      {23, "INSUFFICIENT_RESOURCES", "NVML lacks the resources for this query", "retry later"},
      {24, "FREQ_NOT_SUPPORTED", "the frequency is not supported", ""},
      {25, "ARGUMENT_VERSION_MISMATCH", "a versioned argument does not match the library",
       "this is a bug in lamarr-energy-tracker: please report it"},
      {26, "DEPRECATED", "the NVML function is deprecated", "upgrade lamarr-energy-tracker"},
      {27, "NOT_READY", "the GPU is not ready yet", "retry later"},
      {28, "GPU_NOT_FOUND", "the GPU was not found", "check the GPU list with nvidia-smi -L"},
      {29, "INVALID_STATE", "the GPU is in an invalid state", "reset the GPU (sudo nvidia-smi -r) or reboot"},
      {999, "UNKNOWN", "NVML reported an unknown internal error",
       "check nvidia-smi and dmesg; reinstall the driver if it persists"},
  };
  static const CodeInfo kOther = {-1, "UNKNOWN_CODE", "NVML returned an undocumented error code",
                                  "check nvidia-smi and dmesg"};
  for (const CodeInfo& info : kTable) {
    if (info.code == code) return info;
  }
  return kOther;
}

// Any thread. "NVML returned DRIVER_NOT_LOADED (9): the NVIDIA kernel driver is not loaded".
inline std::string Reason(int code) {
  const CodeInfo& info = Info(code);
  return std::string("NVML returned ") + info.name + " (" + std::to_string(code) + "): " + info.meaning;
}

}  // namespace nvml_codes
}  // namespace let
