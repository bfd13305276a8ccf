// Process-wide runtime settings for programs that use hnet::core.
#ifndef HNET_CORE_RUNTIME_H_
#define HNET_CORE_RUNTIME_H_

namespace hnet::core {

// Sets LibTorch's intra-op thread count (Debian's LibTorch defaults to 1) and tunes glibc's
// allocator to keep freed memory instead of returning it to the kernel, so that the large
// activation tensors of every training step reuse warm pages rather than page-faulting in
// fresh ones. Call once at the start of main(), before other threads exist.
void ConfigureRuntime(int threads);

}  // namespace hnet::core

#endif  // HNET_CORE_RUNTIME_H_
