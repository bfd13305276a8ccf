// A fused CPU kernel for convolution layers with few input channels (e.g. the first layer on
// grayscale images): convolution (stride 1, SAME) + max-pool (ceil mode) + ReLU for N
// generated networks in one pass. The library's grouped convolution runs this shape at a
// fraction of its usual speed, and the full-resolution activation it writes costs more to
// pool and to back-propagate than the convolution itself; this kernel never materialises it.
#ifndef HNET_CORE_CONV_POOL_CPU_H_
#define HNET_CORE_CONV_POOL_CPU_H_

#include <ATen/core/Tensor.h>

#include "core/target_spec.h"

namespace hnet::core {

// Largest fan_in (in_channels * kernel^2) the fused kernel takes; wider layers run at full
// speed in the library's grouped convolution.
inline constexpr int64_t kMaxFusedConvFanIn = 128;

// True when ConvPoolReluCpu can run `layer` on these tensors: a conv layer with fan_in <=
// kMaxFusedConvFanIn and pool <= 15 (a pooling window's offset, below pool^2 <= 225, must fit
// in a uint8 below its 0xFF "no gradient" code), w and x float32 on the CPU, and x needs no
// gradient.
bool FusedConvApplies(const LayerShape& layer, const at::Tensor& w, const at::Tensor& x);

// Instruction sets the fused kernel is compiled for: AVX2 and AVX-512 on x86-64 with GCC,
// the compiler's baseline everywhere. kBest picks the widest this CPU runs.
enum class CpuIsa { kBest, kGeneric, kAvx2, kAvx512 };

// True when this build and this CPU can run `isa` (always for kBest and kGeneric).
bool CpuIsaAvailable(CpuIsa isa);

// relu(max_pool(conv(x))) for N networks. w: [N, F, S] filter rows (target_spec.h layout).
// x: [M, G * C, H, W] with G = N (network n reads channels [n*C, (n+1)*C)) or G = 1 (all
// networks read the same images). Returns the grouped layout [M, N * F, Hout, Wout], equal to
// the library's conv2d + max_pool2d(ceil_mode) + relu within float rounding. Differentiable
// in w (not in x). Deterministic for a given machine; thread-compatible.
// Requires FusedConvApplies(layer, w, x) and CpuIsaAvailable(isa).
at::Tensor ConvPoolReluCpu(const LayerShape& layer, const at::Tensor& w, const at::Tensor& x,
                           CpuIsa isa = CpuIsa::kBest);

}  // namespace hnet::core

#endif  // HNET_CORE_CONV_POOL_CPU_H_
