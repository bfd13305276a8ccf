#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>
#include <torch/cuda.h>

#include <climits>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace hnet::core {
namespace {

// The kernels OpenBLAS's OPENBLAS_CORETYPE would pick for this CPU's instruction sets, or
// nullptr when none beyond SSE3 apply.
const char* KernelsForThisCpu() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

}  // namespace

std::string SelectBlasKernels() {
  using CoreName = char* (*)();
  using Hook = void (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  auto quit = reinterpret_cast<Hook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<Hook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
  // Not OpenBLAS, not a DYNAMIC_ARCH build, or the user chose the kernels.
  if (core_name == nullptr || quit == nullptr || init == nullptr ||
      std::getenv("OPENBLAS_CORETYPE") != nullptr) {
    return "";
  }
  if (std::string(core_name()) != "Prescott") return "";  // Its CPU detection worked.
  const char* kernels = KernelsForThisCpu();
  if (kernels == nullptr) return "";
  // gotoblas_dynamic_init picks the kernels OPENBLAS_CORETYPE names, as at load time; the
  // variable stays set so that child processes make the same choice.
  setenv("OPENBLAS_CORETYPE", kernels, /*overwrite=*/1);
  quit();
  init();
  if (std::string(core_name()) != kernels) {  // This build lacks them: it fell back again.
    unsetenv("OPENBLAS_CORETYPE");
    return "";
  }
  return kernels;
}

std::string BlasName() {
  using Config = char* (*)();
  auto config = reinterpret_cast<Config>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  return config != nullptr ? config() : "not OpenBLAS";
}

void ConfigureRuntime(int threads) {
  if (threads > 0) at::set_num_threads(threads);
  if (const std::string kernels = SelectBlasKernels(); !kernels.empty()) {
    log::Info(
        "OpenBLAS did not recognise this CPU and chose its SSE3 (Prescott) kernels; "
        "using its {} kernels, which this CPU supports (set OPENBLAS_CORETYPE to override)",
        kernels);
  }
  // OpenBLAS (the system BLAS behind LibTorch's matrix products) runs its own thread pool,
  // whose spinning workers compete with LibTorch's OpenMP team for the same cores: on 2 cores
  // a training step took 248 ms with both pools, 143 ms with BLAS on the calling thread.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(1);
  }
  // Serve every allocation from the heap (no per-allocation mmap) and never trim it: the
  // trainer's working set is steady, so its pages stay mapped and warm.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

absl::StatusOr<c10::Device> ParseDevice(const std::string& flag) {
  if (flag == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(flag);
  } catch (const c10::Error&) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device '", flag, "' is not auto, cpu, cuda or cuda:N"));
  }
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          "--device cuda: this LibTorch build has no CUDA or no GPU is visible");
    }
    if (!device.has_index()) device.set_index(0);
    if (device.index() >= static_cast<int>(torch::cuda::device_count())) {
      return absl::InvalidArgumentError(
          absl::StrCat("--device ", flag, ": only ", torch::cuda::device_count(), " GPUs"));
    }
  } else if (!device.is_cpu()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device '", flag, "' is not auto, cpu, cuda or cuda:N"));
  }
  return device;
}

}  // namespace hnet::core
