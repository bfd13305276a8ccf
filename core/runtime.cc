#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>
#include <torch/cuda.h>

#include <climits>

#include "absl/strings/str_cat.h"

namespace hnet::core {

void ConfigureRuntime(int threads) {
  if (threads > 0) at::set_num_threads(threads);
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
