// Parsing of the options the JavaScript layer passes to the addon (lib/native/sampler-options.ts
// builds them): sampler construction, acquire(), release() and readInto(). Every default and rule (environment
// variables, interval limits, the CPU load model) is resolved in TypeScript; this file only
// checks types and ranges and fails with a TypeError / RangeError naming the option.
//
// Threads: every function runs on the JavaScript thread (inside a binding call). Included by
// addon.cpp alone.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "domain.h"
#include "sampler.h"

namespace let {
namespace options {

inline bool Given(const Napi::Value& v) { return !v.IsUndefined() && !v.IsNull(); }

inline std::string RequiredString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline bool OptionalBool(const Napi::Object& o, const char* key, const char* what, bool fallback) {
  Napi::Value v = o.Get(key);
  if (!Given(v)) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string(what) + "." + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline double RequiredNumber(const Napi::Object& o, const char* key, const char* what) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(what) + "." + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw Napi::RangeError::New(o.Env(), std::string(what) + "." + key + " must be finite");
  return d;
}

inline Napi::Object RequiredObject(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be an object");
  return v.As<Napi::Object>();
}

// new Sampler(options): the discovery options and the rules the sampler runs by.
inline void ParseSamplerOptions(const Napi::CallbackInfo& info, SamplerOptions* o, SamplingRules* rules) {
  Napi::Env env = info.Env();
  if (info.Length() == 0 || !info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object opts = info[0].As<Napi::Object>();
  o->hardware_root = RequiredString(opts, "hardwareRoot");
  if (o->hardware_root.empty()) throw Napi::RangeError::New(env, "options.hardwareRoot must not be empty");
  o->nvml_library = RequiredString(opts, "nvmlLibrary");  // '' disables NVML
  Napi::Value gpus = opts.Get("gpuIds");
  if (Given(gpus)) {
    if (!gpus.IsArray()) throw Napi::TypeError::New(env, "options.gpuIds must be an array of strings");
    Napi::Array a = gpus.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value e = a.Get(i);
      if (!e.IsString()) throw Napi::TypeError::New(env, "options.gpuIds must be an array of strings");
      o->gpu_ids.push_back(e.As<Napi::String>().Utf8Value());
    }
  }
  Napi::Value pid = opts.Get("attributionPid");
  if (Given(pid)) {
    if (!pid.IsNumber()) throw Napi::TypeError::New(env, "options.attributionPid must be a number");
    const double p = pid.As<Napi::Number>().DoubleValue();
    if (!(p >= 1 && p <= 4194304) || std::floor(p) != p)
      throw Napi::RangeError::New(env, "options.attributionPid must be a positive integer pid");
    o->attribution_pid = static_cast<int>(p);
  }
  o->include_descendants = OptionalBool(opts, "includeDescendants", "options", false);
  o->simulate_unprivileged = OptionalBool(opts, "simulateUnprivileged", "options", false);

  Napi::Object limits = RequiredObject(opts, "intervalLimitsMs");
  const double min_ms = RequiredNumber(limits, "min", "options.intervalLimitsMs");
  const double max_ms = RequiredNumber(limits, "max", "options.intervalLimitsMs");
  if (!(min_ms > 0 && min_ms <= max_ms && max_ms <= 86400000))
    throw Napi::RangeError::New(env, "options.intervalLimitsMs must have 0 < min <= max <= 86400000");
  rules->min_interval_ns = static_cast<int64_t>(min_ms * 1e6);
  rules->max_interval_ns = static_cast<int64_t>(max_ms * 1e6);

  Napi::Value model = opts.Get("loadModel");
  if (Given(model)) {
    if (!model.IsObject()) throw Napi::TypeError::New(env, "options.loadModel must be an object");
    Napi::Object m = model.As<Napi::Object>();
    LoadModelParams& p = rules->load_model;
    p.idle_share = RequiredNumber(m, "idleShare", "options.loadModel");
    p.exponent = RequiredNumber(m, "exponent", "options.loadModel");
    if (!(p.idle_share >= 0 && p.idle_share <= 1))
      throw Napi::RangeError::New(env, "options.loadModel.idleShare must be between 0 and 1");
    if (!(p.exponent > 0)) throw Napi::RangeError::New(env, "options.loadModel.exponent must be positive");
    p.enabled = true;
  }
}

// acquire(intervalMs, cpuTimes?): the interval, within the sampler's limits, in ns.
inline int64_t ParseIntervalNs(const Napi::CallbackInfo& info, const SamplingRules& rules) {
  Napi::Env env = info.Env();
  if (info.Length() == 0 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "intervalMs must be a number");
  const double ms = info[0].As<Napi::Number>().DoubleValue();
  const double min_ms = static_cast<double>(rules.min_interval_ns) / 1e6;
  const double max_ms = static_cast<double>(rules.max_interval_ns) / 1e6;
  if (!(ms >= min_ms && ms <= max_ms)) {
    char text[96];
    std::snprintf(text, sizeof text, "intervalMs must be between %g and %g", min_ms, max_ms);
    throw Napi::RangeError::New(env, text);
  }
  return static_cast<int64_t>(ms * 1e6);
}

// acquire(intervalMs, cpuTimes?): which CPU times the ticks read for this holder (default both).
inline CpuTimesUse ParseCpuTimesUse(const Napi::CallbackInfo& info) {
  CpuTimesUse use;
  if (info.Length() < 2 || !Given(info[1])) return use;
  if (!info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "cpuTimes must be an object");
  Napi::Object o = info[1].As<Napi::Object>();
  use.machine = OptionalBool(o, "machine", "cpuTimes", true);
  use.process = OptionalBool(o, "process", "cpuTimes", true);
  return use;
}

// release(token, park?): the token, and whether the last release parks the thread (default no).
inline int ParseReleaseToken(const Napi::CallbackInfo& info, bool* park) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "release(token): token must be a number");
  const bool given = info.Length() >= 2 && !info[1].IsUndefined();
  if (given && !info[1].IsBoolean()) throw Napi::TypeError::New(env, "release(token, park): park must be a boolean");
  *park = given && info[1].As<Napi::Boolean>().Value();
  return info[0].As<Napi::Number>().Int32Value();
}

// readInto(buffer): a Float64Array of at least `length` numbers.
inline Napi::Float64Array ParseReadingBuffer(const Napi::CallbackInfo& info, size_t length) {
  const bool f64 = info.Length() >= 1 && info[0].IsTypedArray() &&
                   info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array;
  if (!f64 || info[0].As<Napi::Float64Array>().ElementLength() < length) {
    throw Napi::TypeError::New(info.Env(),
                               "readInto(buffer): buffer must be a Float64Array of 1 + 2 × domains + 6 numbers");
  }
  return info[0].As<Napi::Float64Array>();
}

}  // namespace options
}  // namespace let
