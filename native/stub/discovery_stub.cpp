// Platforms without a native backend (macOS, Windows, …): the same surface, no sensors and no
// CPU times, so the package installs and loads everywhere. Runs on the JavaScript thread.
#include "../platform.h"

namespace let {

namespace {

class NoCpuTimes final : public CpuTimesReader {
 public:
  void Read(CpuRaw* out, bool, bool, bool) override { out->available = false; }
  int OpenFiles() const override { return 0; }
};

}  // namespace

const char* PlatformName() { return "stub"; }

Discovered Discover(const SamplerOptions&) { return Discovered(); }

std::unique_ptr<CpuTimesReader> MakeCpuTimesReader(const SamplerOptions&) { return std::make_unique<NoCpuTimes>(); }

std::unique_ptr<MemoryReader> MakeMemoryReader() { return nullptr; }  // os.freemem() answers

}  // namespace let
