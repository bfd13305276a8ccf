#include "core/conv_pool_cpu.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HNET_X86_DISPATCH 1
#else
#define HNET_X86_DISPATCH 0
#endif

namespace hnet::core {
namespace {

// Marks a pooled output whose ReLU blocks the gradient (output <= 0 or NaN) in the argmax
// tensor; other entries hold the window offset r * pool + dx of the maximum.
constexpr uint8_t kNoGradient = 0xFF;

// Registers: conv rows are computed kChunk = 2 * kLanes columns at a time for kBlock filters
// at once (eight independent accumulators sharing each input load); rows are padded to a
// multiple of kChunk (the extra columns read zeros and are never used).
constexpr int64_t kLanes = 16;
constexpr int64_t kChunk = 2 * kLanes;
constexpr int64_t kBlock = 4;

// kLanes floats; one AVX-512, two AVX2 or four SSE registers in each compiled variant.
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t LaneInts __attribute__((vector_size(kLanes * sizeof(int32_t))));

struct Geometry {
  int64_t n, m, groups;      // networks, images per network, input groups (n or 1)
  int64_t c, h, w;           // input channels per group and spatial size
  int64_t k, pad, p;         // kernel, padding before (SAME), pool
  int64_t f, s;              // filters, filter row size (fan_in + 1)
  int64_t ho, wo;            // pooled size
  int64_t wv, hb, wb;        // row width rounded up to kChunk, padded input size

  int64_t plane() const { return ho * wo; }
};

Geometry GeometryOf(const LayerShape& layer, int64_t networks, const at::Tensor& x) {
  Geometry g{};
  g.n = networks;
  g.m = x.size(0);
  g.c = layer.in_channels;
  g.groups = x.size(1) / g.c;
  g.h = x.size(2);
  g.w = x.size(3);
  g.k = layer.kernel;
  g.pad = (g.k - 1) / 2;  // SAME; an even kernel pads one more after, as TF.
  g.p = layer.pool;
  g.f = layer.filters;
  g.s = layer.filter_size();
  g.ho = (g.h + g.p - 1) / g.p;
  g.wo = (g.w + g.p - 1) / g.p;
  g.wv = (g.w + kChunk - 1) / kChunk * kChunk;
  g.hb = g.h + g.k - 1;
  g.wb = g.wv + g.k - 1 + kBlock;  // kBlock: the backward pass reads taps in blocks.
  return g;
}

// Copies image (m, network n's group) into the zero-padded buffer [C, hb, wb].
void PadImage(const Geometry& g, const float* x, int64_t m, int64_t n, float* pad) {
  const int64_t group = g.groups == 1 ? 0 : n;
  const float* src = x + ((m * g.groups + group) * g.c) * g.h * g.w;
  std::fill(pad, pad + g.c * g.hb * g.wb, 0.0f);
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t y = 0; y < g.h; ++y) {
      std::memcpy(pad + (c * g.hb + y + g.pad) * g.wb + g.pad, src + (c * g.h + y) * g.w,
                  g.w * sizeof(float));
    }
  }
}

// The per-image kernels, compiled once per instruction set and picked at run time: a generic
// build still runs AVX-512 or AVX2 + FMA code where the CPU has it. (GCC's target_clones
// would lower the vector-extension code for the baseline ISA before cloning.)
namespace generic {
#include "core/conv_pool_cpu_kernels.inc"
}  // namespace generic

#if HNET_X86_DISPATCH
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "core/conv_pool_cpu_kernels.inc"
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
namespace avx512 {
#include "core/conv_pool_cpu_kernels.inc"
}  // namespace avx512
#pragma GCC pop_options
#endif

struct Kernels {
  decltype(&generic::ForwardImage) forward;
  decltype(&generic::BackwardImage) backward;
};

bool Supports(CpuIsa isa) {
#if HNET_X86_DISPATCH
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  switch (isa) {
    case CpuIsa::kAvx512:
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    case CpuIsa::kAvx2:
      return avx2;
    default:
      return true;
  }
#else
  return isa == CpuIsa::kBest || isa == CpuIsa::kGeneric;
#endif
}

// The kernels for `isa` (kBest: the widest this CPU runs). Requires Supports(isa).
Kernels KernelsFor(CpuIsa isa) {
  if (isa == CpuIsa::kBest) {
    static const CpuIsa best = Supports(CpuIsa::kAvx512) ? CpuIsa::kAvx512
                               : Supports(CpuIsa::kAvx2) ? CpuIsa::kAvx2
                                                         : CpuIsa::kGeneric;
    isa = best;
  }
#if HNET_X86_DISPATCH
  if (isa == CpuIsa::kAvx512) return {avx512::ForwardImage, avx512::BackwardImage};
  if (isa == CpuIsa::kAvx2) return {avx2::ForwardImage, avx2::BackwardImage};
#endif
  return {generic::ForwardImage, generic::BackwardImage};
}

// Returns {out [M, N*F, ho, wo], arg (same shape, uint8)}.
std::pair<at::Tensor, at::Tensor> Forward(const Geometry& g, const Kernels& kernels,
                                          const at::Tensor& w, const at::Tensor& x) {
  at::Tensor out = at::empty({g.m, g.n * g.f, g.ho, g.wo}, x.options());
  at::Tensor arg = at::empty({g.m, g.n * g.f, g.ho, g.wo}, x.options().dtype(at::kByte));
  const float* wp = w.data_ptr<float>();
  const float* xp = x.data_ptr<float>();
  float* op = out.data_ptr<float>();
  uint8_t* ap = arg.data_ptr<uint8_t>();
  at::parallel_for(0, g.m * g.n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> pad(g.c * g.hb * g.wb);
    std::vector<float> rows(kBlock * g.p * g.wv);
    std::vector<float> taps(kBlock * g.s);
    std::vector<float> pooled(g.wv / 2);
    std::vector<int32_t> codes(g.wv / 2);
    for (int64_t j = begin; j < end; ++j) {
      const int64_t m = j / g.n, n = j % g.n;
      PadImage(g, xp, m, n, pad.data());
      const int64_t offset = j * g.f * g.plane();  // (m * N + n) * F planes
      kernels.forward(g, pad.data(), wp + n * g.f * g.s, rows.data(), taps.data(),
                      pooled.data(), codes.data(), op + offset, ap + offset);
    }
  });
  return {out, arg};
}

at::Tensor Backward(const Geometry& g, const Kernels& kernels, const at::Tensor& grad,
                    const at::Tensor& arg, const at::Tensor& x) {
  at::Tensor grad_w = at::zeros({g.n, g.f, g.s}, x.options());
  const float* gp = grad.data_ptr<float>();
  const uint8_t* ap = arg.data_ptr<uint8_t>();
  const float* xp = x.data_ptr<float>();
  float* gwp = grad_w.data_ptr<float>();
  at::parallel_for(0, g.n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> pad(g.c * g.hb * g.wb);
    std::vector<float> dense(g.h * g.wv);
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t m = 0; m < g.m; ++m) {
        PadImage(g, xp, m, n, pad.data());
        const int64_t offset = (m * g.n + n) * g.f * g.plane();
        kernels.backward(g, pad.data(), gp + offset, ap + offset, dense.data(),
                         gwp + n * g.f * g.s);
      }
    }
  });
  return grad_w;
}

class ConvPoolRelu : public torch::autograd::Function<ConvPoolRelu> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& w,
                            const at::Tensor& x, const LayerShape& layer, CpuIsa isa) {
    const at::Tensor wc = w.contiguous();
    const at::Tensor xc = x.contiguous();
    const Geometry g = GeometryOf(layer, wc.size(0), xc);
    auto [out, arg] = Forward(g, KernelsFor(isa), wc, xc);
    // Neither x (no gradient) nor arg (an intermediate) has a grad_fn: no reference cycle.
    ctx->saved_data["x"] = xc;
    ctx->saved_data["arg"] = arg;
    ctx->saved_data["in_channels"] = layer.in_channels;
    ctx->saved_data["kernel"] = layer.kernel;
    ctx->saved_data["pool"] = layer.pool;
    ctx->saved_data["filters"] = layer.filters;
    ctx->saved_data["n"] = g.n;
    ctx->saved_data["isa"] = static_cast<int64_t>(isa);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    LayerShape layer;
    layer.kind = LayerShape::Kind::kConv;
    layer.in_channels = ctx->saved_data["in_channels"].toInt();
    layer.kernel = ctx->saved_data["kernel"].toInt();
    layer.pool = ctx->saved_data["pool"].toInt();
    layer.filters = ctx->saved_data["filters"].toInt();
    const at::Tensor x = ctx->saved_data["x"].toTensor();
    const Geometry g = GeometryOf(layer, ctx->saved_data["n"].toInt(), x);
    const Kernels kernels = KernelsFor(static_cast<CpuIsa>(ctx->saved_data["isa"].toInt()));
    at::Tensor grad_w =
        Backward(g, kernels, grads[0].contiguous(), ctx->saved_data["arg"].toTensor(), x);
    return {grad_w, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool CpuIsaAvailable(CpuIsa isa) { return Supports(isa); }

bool FusedConvApplies(const LayerShape& layer, const at::Tensor& w, const at::Tensor& x) {
  return layer.kind == LayerShape::Kind::kConv && layer.fan_in() <= kMaxFusedConvFanIn &&
         layer.pool * layer.pool < kNoGradient && w.device().is_cpu() &&
         x.device().is_cpu() && w.scalar_type() == at::kFloat &&
         x.scalar_type() == at::kFloat && !x.requires_grad();
}

at::Tensor ConvPoolReluCpu(const LayerShape& layer, const at::Tensor& w, const at::Tensor& x,
                           CpuIsa isa) {
  TORCH_CHECK(FusedConvApplies(layer, w, x), "ConvPoolReluCpu: unsupported layer or tensors");
  TORCH_CHECK(Supports(isa), "ConvPoolReluCpu: this CPU lacks the requested instruction set");
  const int64_t n = w.size(0);
  TORCH_CHECK(w.dim() == 3 && w.size(1) == layer.filters && w.size(2) == layer.filter_size(),
              "ConvPoolReluCpu: w must be [N, ", layer.filters, ", ", layer.filter_size(),
              "], got ", w.sizes());
  TORCH_CHECK(x.dim() == 4 && (x.size(1) == layer.in_channels * n ||
                               x.size(1) == layer.in_channels),
              "ConvPoolReluCpu: x must be [M, G*", layer.in_channels, ", H, W] with G = 1 or ",
              n, ", got ", x.sizes());
  return ConvPoolRelu::apply(w, x, layer, isa);
}

}  // namespace hnet::core
