// GPU selection for NVML: which enumerated GPUs the user's selectors choose. Pure: no NVML
// call, no I/O, no Node-API; runs on the JavaScript thread during discovery. See nvml.h.
#include <algorithm>
#include <cctype>

#include "fsutil.h"
#include "nvml.h"

namespace let {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// Empty selectors = all; a selector is an NVML index or a (case-insensitive) UUID prefix, with
// or without the "GPU-" prefix. A selector matching no GPU, or several, is a problem that lists
// the GPUs NVML sees.
std::vector<bool> SelectGpus(const std::vector<GpuIdentity>& gpus, const std::vector<std::string>& selectors,
                             std::vector<NvmlProblem>* problems) {
  const size_t count = gpus.size();
  std::vector<bool> chosen(count, selectors.empty());
  for (const std::string& raw : selectors) {
    const std::string sel = Trim(raw);
    std::vector<size_t> hits;
    if (AllDigits(sel)) {
      const unsigned long idx = sel.size() > 9 ? count : std::stoul(sel);
      if (idx < count) hits.push_back(idx);
    } else if (!sel.empty()) {
      const std::string want = Lower(sel);
      for (size_t i = 0; i < count; ++i) {
        const std::string uuid = Lower(gpus[i].uuid);
        if (uuid.empty()) continue;
        if (uuid.compare(0, want.size(), want) == 0 ||
            (uuid.compare(0, 4, "gpu-") == 0 && uuid.compare(4, want.size(), want) == 0)) {
          hits.push_back(i);
        }
      }
    }
    if (hits.size() == 1) {
      chosen[hits[0]] = true;
      continue;
    }
    std::string listing;
    for (size_t i = 0; i < count; ++i) {
      listing += (i ? "; " : "") + std::to_string(i) + " " + gpus[i].name + (gpus[i].uuid.empty() ? "" : " " + gpus[i].uuid);
    }
    if (listing.empty()) listing = "none";
    if (hits.empty()) {
      problems->push_back({"nvml", "GPU selector \"" + sel + "\" matches no GPU (NVML sees " + std::to_string(count) + ": " +
                                       listing + ")",
                           "select GPUs by NVML index (0-based, which can differ from the CUDA index) or by "
                           "UUID or UUID prefix as listed by nvidia-smi -L"});
    } else {
      problems->push_back({"nvml", "GPU selector \"" + sel + "\" is ambiguous: it matches " + std::to_string(hits.size()) +
                                       " GPUs (" + listing + ")",
                           "give more characters of the UUID (nvidia-smi -L lists them)"});
    }
  }
  return chosen;
}

}  // namespace let
