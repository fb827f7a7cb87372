// Node-API surface of the sampler (lib/native/types.ts: NativeBinding, NativeSampler).
//
// Per-environment state lives in one LetAddon per loaded instance (main thread or worker; the
// env's instance data, deleted with the env). Its env cleanup hook closes every sampler of that
// env (stops and joins its thread, closes its files, shuts NVML down) and releases the store
// locks it still holds, so worker.terminate(), process.exit() in a worker and environment
// teardown never leave a thread running or a lock held. No thread is owned by a static.
// Every function in this file runs on the JavaScript thread of its env.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "addon_options.h"
#include "lock_binding.h"
#include "platform.h"
#include "reading_buffer.h"
#include "sampler.h"
#include "signal_watchdog.h"

#define LET_STR2(x) #x
#define LET_STR(x) LET_STR2(x)
#ifndef LET_VERSION
#define LET_VERSION 0.0.0
#endif

namespace let {

namespace {

// Property names of a Reading, created once per env (interning a UTF-8 name on every call
// would dominate the cost of latest()).
enum Key { kTimestampNs, kEnergyUj, kAttributedUj, kCpu, kAvailable, kMachineTotalS, kMachineBusyS,
           kProcessS, kLoadModelS, kLogicalCpus, kKeyCount };
const char* const kKeyNames[kKeyCount] = {"timestampNs", "energyUj", "attributedUj", "cpu", "available",
                                          "machineTotalS", "machineBusyS", "processS", "loadModelS", "logicalCpus"};

}  // namespace

// The state of one env. Touched only on that env's JavaScript thread (its methods, the
// SamplerWrap constructor, the cleanup hook), so it needs no lock.
class LetAddon : public Napi::Addon<LetAddon> {
 public:
  LetAddon(Napi::Env env, Napi::Object exports);
  ~LetAddon();

  // A new sampler of this env (SamplerWrap's constructor), for liveThreads/openFiles and cleanup.
  void Register(const std::shared_ptr<Sampler>& sampler);
  // Node-API 9 cannot reference a primitive, so the names live in a referenced array.
  Napi::Object KeyNames() const { return keys_.Value(); }

 private:
  // liveThreads(): sampling threads; parkedThreads() (Data set): parked ones.
  Napi::Value LiveThreads(const Napi::CallbackInfo& info);
  Napi::Value OpenFiles(const Napi::CallbackInfo& info);
  void Noop(const Napi::CallbackInfo&) {}
  // Env cleanup hook and destructor: close every sampler, release every lock. Idempotent.
  void CloseAll();
  static void OnEnvCleanup(LetAddon* self) { self->CloseAll(); }

  using Hook = Napi::Env::CleanupHook<void (*)(LetAddon*), LetAddon>;
  napi_env env_;
  Hook hook_;
  bool cleaned_up_ = false;
  std::vector<std::weak_ptr<Sampler>> samplers_;
  Napi::ObjectReference keys_;
  LockTable locks_;  // the store lock's descriptors of this env (lock_binding.h)
};

namespace {

// ---- conversions to JavaScript values

Napi::Value NullableString(Napi::Env env, const std::string& s) {
  return s.empty() ? env.Null() : Napi::Value(Napi::String::New(env, s));
}

Napi::Object DomainToJs(Napi::Env env, const DomainInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", d.id);
  o.Set("device", d.device);
  o.Set("kind", d.kind);
  o.Set("name", d.name);
  o.Set("index", d.index);
  o.Set("die", d.die);
  o.Set("parentId", NullableString(env, d.parent_id));
  o.Set("method", d.method);
  o.Set("resolutionUj", d.resolution_uj);
  o.Set("wrapRangeUj", d.wrap_range_uj);
  o.Set("source", d.source);
  o.Set("uuid", NullableString(env, d.uuid));
  o.Set("updatePeriodMs", d.update_period_ms);
  return o;
}

Napi::Array DomainsToJs(Napi::Env env, const std::vector<DomainInfo>& ds) {
  Napi::Array a = Napi::Array::New(env, ds.size());
  for (uint32_t i = 0; i < ds.size(); ++i) a.Set(i, DomainToJs(env, ds[i]));
  return a;
}

Napi::Array NumbersToJs(Napi::Env env, const uint64_t* v, size_t n) {
  Napi::Array a = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; ++i) a.Set(i, Napi::Number::New(env, static_cast<double>(v[i])));
  return a;
}

// Builds a Reading with the cached property names: one napi_define_properties per object.
Napi::Object ReadingToJs(Napi::Env env, const Reading& s) {
  Napi::Object names = env.GetInstanceData<LetAddon>()->KeyNames();
  auto key = [&](Key k) -> napi_value { return names.Get(static_cast<uint32_t>(k)); };
  auto prop = [&](Key k, napi_value v) {
    return napi_property_descriptor{nullptr, key(k), nullptr, nullptr, nullptr, v, napi_default_jsproperty, nullptr};
  };
  Napi::Object c = Napi::Object::New(env);
  const napi_property_descriptor cpu[] = {
      prop(kAvailable, Napi::Boolean::New(env, s.cpu.available)),
      prop(kMachineTotalS, Napi::Number::New(env, s.cpu.machine_total_s)),
      prop(kMachineBusyS, Napi::Number::New(env, s.cpu.machine_busy_s)),
      prop(kProcessS, Napi::Number::New(env, s.cpu.process_s)),
      prop(kLoadModelS, Napi::Number::New(env, s.cpu.load_model_s)),
      prop(kLogicalCpus, Napi::Number::New(env, s.cpu.logical_cpus)),
  };
  NAPI_THROW_IF_FAILED(env, napi_define_properties(env, c, 6, cpu), Napi::Object());
  Napi::Object r = Napi::Object::New(env);
  const napi_property_descriptor reading[] = {
      prop(kTimestampNs, Napi::Number::New(env, static_cast<double>(s.t_ns))),
      prop(kEnergyUj, NumbersToJs(env, s.energy_uj.data(), s.energy_uj.size())),
      prop(kAttributedUj, NumbersToJs(env, s.attributed_uj.data(), s.attributed_uj.size())),
      prop(kCpu, c),
  };
  NAPI_THROW_IF_FAILED(env, napi_define_properties(env, r, 4, reading), Napi::Object());
  return r;
}

// ---- the Sampler class

class SamplerWrap : public Napi::ObjectWrap<SamplerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Sampler",
                       {InstanceMethod<&SamplerWrap::Probe>("probe"),
                        InstanceMethod<&SamplerWrap::Acquire>("acquire"),
                        InstanceMethod<&SamplerWrap::Release>("release"),
                        InstanceMethod<&SamplerWrap::Read>("read"),
                        InstanceMethod<&SamplerWrap::ReadInto>("readInto"),
                        InstanceMethod<&SamplerWrap::Latest>("latest"),
                        InstanceMethod<&SamplerWrap::MemAvailable>("memAvailable"),
                        InstanceMethod<&SamplerWrap::RecentSamples>("recentSamples"),
                        InstanceMethod<&SamplerWrap::Stats>("stats"),
                        InstanceMethod<&SamplerWrap::Close>("close")});
  }

  SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) throw Napi::TypeError::New(env, "Sampler must be called with new");
    SamplerOptions options;
    SamplingRules rules;
    options::ParseSamplerOptions(info, &options, &rules);
    sampler_ = std::make_shared<Sampler>(options, rules);
    env.GetInstanceData<LetAddon>()->Register(sampler_);
    info.This().As<Napi::Object>().DefineProperty(
        Napi::PropertyDescriptor::Value("domains", DomainsToJs(env, sampler_->domains()), napi_enumerable));
  }

  // Finalizer (JS thread, or env teardown): closes this sampler; the addon is not touched,
  // since it may already be gone.
  ~SamplerWrap() override {
    if (sampler_) sampler_->Close();
  }

 private:
  Sampler& Open(Napi::Env env) {
    if (sampler_->closed()) throw Napi::Error::New(env, "the sampler is closed");
    return *sampler_;
  }

  Napi::Value Probe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Discovered& d = sampler_->discovered();
    Napi::Object r = Napi::Object::New(env);
    r.Set("platform", PlatformName());
    r.Set("hardwareRoot", sampler_->options().hardware_root);
    r.Set("domains", DomainsToJs(env, sampler_->domains()));
    Napi::Array un = Napi::Array::New(env, d.unavailable.size());
    for (uint32_t i = 0; i < d.unavailable.size(); ++i) {
      const Unavailable& u = d.unavailable[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("method", u.method);
      o.Set("target", u.target);
      o.Set("reason", u.reason);
      o.Set("fix", NullableString(env, u.fix));
      un.Set(i, o);
    }
    r.Set("unavailable", un);
    r.Set("cpuVendor", d.cpu_vendor);
    r.Set("cpuModel", d.cpu_model);
    r.Set("nvmlLoaded", d.nvml_loaded);
    r.Set("nvmlDriverVersion", d.nvml_driver_version);
    return r;
  }

  Napi::Value Acquire(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Sampler& s = Open(env);
    const int64_t interval_ns = options::ParseIntervalNs(info, s.rules());
    return Napi::Number::New(env, s.Acquire(interval_ns, options::ParseCpuTimesUse(info)));
  }

  // release(token, park?): with park true, the last release parks the thread instead of joining it.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    bool park = false;
    const int token = options::ParseReleaseToken(info, &park);
    if (!sampler_->closed()) sampler_->Release(token, park);
    return info.Env().Undefined();
  }

  Napi::Value Read(const Napi::CallbackInfo& info) { return ReadingToJs(info.Env(), Open(info.Env()).Read()); }

  // readInto(buffer): a fresh reading written into a Float64Array (reading_buffer.h).
  Napi::Value ReadInto(const Napi::CallbackInfo& info) {
    Napi::Float64Array out = options::ParseReadingBuffer(info, ReadingBufferLength(sampler_->domains().size()));
    WriteReading(Open(info.Env()).Read(), out.Data(), out.ElementLength());
    return info.Env().Undefined();
  }

  Napi::Value Latest(const Napi::CallbackInfo& info) { return ReadingToJs(info.Env(), Open(info.Env()).Latest()); }

  // memAvailable(): the machine's available memory now (bytes), or null where it cannot be read.
  Napi::Value MemAvailable(const Napi::CallbackInfo& info) {
    uint64_t bytes = 0;
    if (!Open(info.Env()).ReadMemAvailable(&bytes)) return info.Env().Null();
    return Napi::Number::New(info.Env(), static_cast<double>(bytes));
  }

  // recentSamples(sinceNs?): ring entries taken after sinceNs (monotonic ns), as Readings.
  Napi::Value RecentSamples(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t since_ns = 0;
    if (info.Length() >= 1 && !info[0].IsUndefined()) {
      if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "recentSamples(sinceNs): sinceNs must be a number");
      since_ns = info[0].As<Napi::Number>().Int64Value();
    }
    const std::vector<Reading> samples = sampler_->RecentSamples(since_ns);
    Napi::Array a = Napi::Array::New(env, samples.size());
    for (uint32_t k = 0; k < samples.size(); ++k) a.Set(k, ReadingToJs(env, samples[k]));
    return a;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const SamplerStats c = sampler_->Stats();
    // The four counts of `d` as properties of `o` (per domain, and their sums on the result).
    auto counts = [](Napi::Object o, const DomainStats& d) {
      o.Set("readErrors", static_cast<double>(d.read_errors));
      o.Set("anomalies", static_cast<double>(d.anomalies));
      o.Set("resets", static_cast<double>(d.resets));
      o.Set("wraps", static_cast<double>(d.wraps));
      return o;
    };
    DomainStats sum;
    Napi::Array per = Napi::Array::New(env, c.per_domain.size());
    for (uint32_t i = 0; i < c.per_domain.size(); ++i) {
      const DomainStats& d = c.per_domain[i];
      sum.read_errors += d.read_errors, sum.anomalies += d.anomalies, sum.resets += d.resets, sum.wraps += d.wraps;
      per.Set(i, counts(Napi::Object::New(env), d));
    }
    Napi::Object r = counts(Napi::Object::New(env), sum);
    r.Set("samples", static_cast<double>(c.samples));
    r.Set("threadRunning", sampler_->ThreadRunning());
    r.Set("threadParked", sampler_->ThreadParked());
    r.Set("threadStarts", static_cast<double>(sampler_->ThreadStarts()));
    r.Set("intervalMs", static_cast<double>(sampler_->EffectiveIntervalNs()) / 1e6);
    r.Set("perDomain", per);
    return r;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    sampler_->Close();
    return info.Env().Undefined();
  }

  std::shared_ptr<Sampler> sampler_;
};

}  // namespace

// ---- LetAddon

LetAddon::LetAddon(Napi::Env env, Napi::Object exports) : env_(env) {
  Napi::Array names = Napi::Array::New(env, kKeyCount);
  for (uint32_t k = 0; k < kKeyCount; ++k) names.Set(k, Napi::String::New(env, kKeyNames[k]));
  keys_ = Napi::Persistent(names.As<Napi::Object>());
  hook_ = env.AddCleanupHook(&LetAddon::OnEnvCleanup, this);
  // Plain data properties, as exports.Set makes them (the loader spreads the exports).
  constexpr napi_property_attributes kPlain = napi_default_jsproperty;
  DefineAddon(exports, {InstanceValue("Sampler", SamplerWrap::Define(env), kPlain),
                        InstanceValue("platform", Napi::String::New(env, PlatformName()), kPlain),
                        InstanceValue("version", Napi::String::New(env, LET_STR(LET_VERSION)), kPlain),
                        InstanceMethod<&LetAddon::LiveThreads>("liveThreads", kPlain),
                        InstanceMethod<&LetAddon::LiveThreads>("parkedThreads", kPlain, this),
                        InstanceMethod<&LetAddon::OpenFiles>("openFiles", kPlain),
                        InstanceMethod<&LetAddon::Noop>("noop", kPlain)});
  RegisterSignalWatchdog(env, exports);  // its own per-env state and cleanup hook
  RegisterLockFunctions(env, exports, &locks_);
}

// Env teardown (instance-data finalizer). The cleanup hook normally ran first; if not, it is
// removed here so that it never sees a deleted addon.
LetAddon::~LetAddon() {
  if (!cleaned_up_) hook_.Remove(Napi::Env(env_));
  CloseAll();
}

void LetAddon::Register(const std::shared_ptr<Sampler>& sampler) {
  std::vector<std::weak_ptr<Sampler>> keep;
  for (auto& w : samplers_)
    if (auto s = w.lock(); s && !s->closed()) keep.push_back(w);
  keep.push_back(sampler);
  samplers_.swap(keep);
}

Napi::Value LetAddon::LiveThreads(const Napi::CallbackInfo& info) {
  int live = 0, parked = 0;
  for (auto& w : samplers_)
    if (auto s = w.lock()) live += s->ThreadRunning() ? 1 : 0, parked += s->ThreadParked() ? 1 : 0;
  return Napi::Number::New(info.Env(), info.Data() == nullptr ? live : parked);
}

Napi::Value LetAddon::OpenFiles(const Napi::CallbackInfo& info) {
  int n = 0;
  for (auto& w : samplers_)
    if (auto s = w.lock()) n += s->OpenFiles();
  return Napi::Number::New(info.Env(), n);
}

void LetAddon::CloseAll() {
  cleaned_up_ = true;
  for (auto& w : samplers_)
    if (auto s = w.lock()) s->Close();
  samplers_.clear();
  locks_.CloseAll();
}

}  // namespace let

using let::LetAddon;
NODE_API_ADDON(LetAddon)
