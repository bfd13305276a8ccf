// Process-wide runtime settings for programs that use hnet::core.
#ifndef HNET_CORE_RUNTIME_H_
#define HNET_CORE_RUNTIME_H_

#include <c10/core/Device.h>

#include <string>

#include "absl/status/statusor.h"

namespace hnet::core {

// OpenBLAS 0.3.21 (Debian 12) falls back to its SSE3 "Prescott" kernels on x86 CPUs newer than
// it knows (e.g. Xeon model 207), where sgemm then runs about 3x slower. When the BLAS is a
// DYNAMIC_ARCH OpenBLAS that did so and OPENBLAS_CORETYPE is unset, switches it to the kernels
// the CPU supports (SkylakeX for AVX-512, Haswell for AVX2 + FMA) and returns their name;
// otherwise changes nothing and returns "". Call before any matrix product, with no BLAS call
// running (ConfigureRuntime does).
std::string SelectBlasKernels();

// The BLAS behind LibTorch's CPU matrix products, for logs and benchmark reports: OpenBLAS's
// configuration string (version, build options, kernels in use) or "not OpenBLAS".
std::string BlasName();

// Sets LibTorch's intra-op thread count (Debian's LibTorch defaults to 1), picks OpenBLAS's
// kernels (SelectBlasKernels, logged when it changes them), keeps OpenBLAS (when it is the BLAS)
// on the calling thread so its pool does not fight LibTorch's, and tunes glibc's allocator to
// keep freed memory instead of returning it to the kernel, so that the large activation tensors
// of every training step reuse warm pages rather than page-faulting in fresh ones. Call once
// at the start of main(), after log::Init and before other threads exist.
void ConfigureRuntime(int threads);

// The --device flag of every program: "auto" (CUDA when available, else CPU), "cpu", "cuda"
// or "cuda:N" (an index < the number of visible GPUs). Errors name the flag and its value.
absl::StatusOr<c10::Device> ParseDevice(const std::string& flag);

}  // namespace hnet::core

#endif  // HNET_CORE_RUNTIME_H_
