// Process-wide runtime settings for programs that use hnet::core.
#ifndef HNET_CORE_RUNTIME_H_
#define HNET_CORE_RUNTIME_H_

#include <c10/core/Device.h>

#include <string>

#include "absl/status/statusor.h"

namespace hnet::core {

// Sets LibTorch's intra-op thread count (Debian's LibTorch defaults to 1), keeps OpenBLAS (when
// it is the BLAS) on the calling thread so its pool does not fight LibTorch's, and tunes glibc's
// allocator to keep freed memory instead of returning it to the kernel, so that the large
// activation tensors of every training step reuse warm pages rather than page-faulting in
// fresh ones. Call once at the start of main(), before other threads exist.
void ConfigureRuntime(int threads);

// The --device flag of every program: "auto" (CUDA when available, else CPU), "cpu", "cuda"
// or "cuda:N" (an index < the number of visible GPUs). Errors name the flag and its value.
absl::StatusOr<c10::Device> ParseDevice(const std::string& flag);

}  // namespace hnet::core

#endif  // HNET_CORE_RUNTIME_H_
