#include "core/conv_pool_cpu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <vector>

#include "core/target_forward.h"
#include "tests/core/test_util.h"

namespace hnet::core {
namespace {

namespace F = torch::nn::functional;

// The library's path for a grouped conv layer: conv2d (TF SAME padding) + ceil-mode max-pool
// + ReLU, on x [M, G*C, H, W] with G = 1 (shared) or N.
at::Tensor LibraryConvPoolRelu(const LayerShape& layer, const at::Tensor& w, const at::Tensor& x) {
  const int64_t n = w.size(0), k = layer.kernel;
  at::Tensor kernels =
      w.narrow(2, 0, layer.fan_in()).reshape({n * layer.filters, layer.in_channels, k, k});
  at::Tensor bias = w.select(2, layer.fan_in()).reshape({n * layer.filters});
  at::Tensor padded = F::pad(x, F::PadFuncOptions({(k - 1) / 2, k / 2, (k - 1) / 2, k / 2}));
  const int64_t groups = x.size(1) == layer.in_channels ? 1 : n;
  at::Tensor out = F::conv2d(padded, kernels, F::Conv2dFuncOptions().bias(bias).groups(groups));
  return torch::relu(torch::max_pool2d(out, layer.pool, layer.pool, 0, 1, /*ceil_mode=*/true));
}

LayerShape ConvShape(int64_t channels, int64_t size, int64_t kernel, int64_t pool,
                     int64_t filters) {
  LayerShape layer;
  layer.kind = LayerShape::Kind::kConv;
  layer.in_channels = channels;
  layer.in_height = layer.in_width = size;
  layer.kernel = kernel;
  layer.pool = pool;
  layer.filters = filters;
  layer.out_height = layer.out_width = (size + pool - 1) / pool;
  return layer;
}

// Every instruction set this build and CPU run (the baseline always).
std::vector<CpuIsa> AvailableIsas() {
  std::vector<CpuIsa> out;
  for (CpuIsa isa : {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
    if (CpuIsaAvailable(isa)) out.push_back(isa);
  }
  return out;
}

// Checks the fused kernel (each instruction set) against the library on random inputs: output
// and weight gradient.
void ExpectMatchesLibrary(const LayerShape& layer, int64_t n, int64_t m, bool shared) {
  at::Tensor w = torch::randn({n, layer.filters, layer.filter_size()}) * 0.3;
  w.requires_grad_(true);
  const int64_t groups = shared ? 1 : n;
  at::Tensor x = torch::rand({m, groups * layer.in_channels, layer.in_height, layer.in_width});
  ASSERT_TRUE(FusedConvApplies(layer, w, x));
  at::Tensor library = LibraryConvPoolRelu(layer, w, x);
  at::Tensor upstream = torch::randn(library.sizes());
  at::Tensor grad_library = torch::autograd::grad({library}, {w}, {upstream})[0];
  for (CpuIsa isa : AvailableIsas()) {
    SCOPED_TRACE(static_cast<int>(isa));
    at::Tensor fused = ConvPoolReluCpu(layer, w, x, isa);
    ASSERT_EQ(fused.sizes(), library.sizes());
    EXPECT_TRUE(torch::allclose(fused, library, 1e-4, 1e-5))
        << (fused - library).abs().max().item<float>();
    at::Tensor grad_fused = torch::autograd::grad({fused}, {w}, {upstream})[0];
    EXPECT_TRUE(torch::allclose(grad_fused, grad_library, 1e-3, 1e-3))
        << (grad_fused - grad_library).abs().max().item<float>();
  }
}

TEST(ConvPoolReluCpu, MatchesLibraryOnThePapersFirstLayer) {
  torch::manual_seed(11);
  ExpectMatchesLibrary(testing::MnistLayout().layers()[0], 3, 4, /*shared=*/false);
}

TEST(ConvPoolReluCpu, MatchesLibraryWithSharedImages) {
  torch::manual_seed(12);
  ExpectMatchesLibrary(testing::MnistLayout().layers()[0], 5, 3, /*shared=*/true);
}

TEST(ConvPoolReluCpu, MatchesLibraryWithEvenKernelsChannelsAndPartialPoolWindows) {
  torch::manual_seed(13);
  ExpectMatchesLibrary(ConvShape(2, 13, 4, 3, 5), 2, 3, /*shared=*/false);
  ExpectMatchesLibrary(ConvShape(3, 7, 3, 1, 4), 2, 2, /*shared=*/false);  // No pooling.
}

TEST(ConvPoolReluCpu, RoutesTiesAndNegativeMaximaLikeTheLibrary) {
  const LayerShape layer = ConvShape(1, 4, 1, 2, 1);  // 1x1 conv: output = w * x + b.
  at::Tensor w = torch::tensor({1.0f, 0.0f}).view({1, 1, 2}).requires_grad_(true);
  at::Tensor x = torch::tensor({1.0f, 1.0f, -1.0f, -2.0f,  //
                                0.5f, 1.0f, -3.0f, -1.0f,  //
                                0.0f, 0.0f, 2.0f, 0.0f,    //
                                0.0f, 0.0f, 0.0f, 2.0f})
                     .view({1, 1, 4, 4});
  at::Tensor library = LibraryConvPoolRelu(layer, w, x);
  at::Tensor upstream = torch::ones(library.sizes());
  at::Tensor grad_library = torch::autograd::grad({library}, {w}, {upstream})[0];
  for (CpuIsa isa : AvailableIsas()) {
    at::Tensor fused = ConvPoolReluCpu(layer, w, x, isa);
    EXPECT_TRUE(torch::equal(fused, library));
    EXPECT_TRUE(torch::equal(torch::autograd::grad({fused}, {w}, {upstream})[0], grad_library));
  }
}

TEST(ConvPoolReluCpu, PropagatesNaNLikeTheLibrary) {
  torch::manual_seed(15);
  const LayerShape layer = testing::MnistLayout().layers()[0];
  at::Tensor w = torch::randn({2, layer.filters, layer.filter_size()}) * 0.3;
  at::Tensor x = torch::rand({2, 2, 28, 28});
  x[1][0][10][17] = std::numeric_limits<float>::quiet_NaN();
  at::Tensor library = torch::isnan(LibraryConvPoolRelu(layer, w, x));
  ASSERT_GT(library.sum().item<int64_t>(), 0);
  for (CpuIsa isa : AvailableIsas()) {
    EXPECT_TRUE(torch::equal(torch::isnan(ConvPoolReluCpu(layer, w, x, isa)), library));
  }
}

TEST(ConvPoolReluCpu, DoesNotApplyWhenTheInputNeedsAGradientOrIsNotFloatOnCpu) {
  const LayerShape layer = testing::MnistLayout().layers()[0];
  at::Tensor w = torch::randn({2, layer.filters, layer.filter_size()});
  at::Tensor x = torch::rand({3, 2, 28, 28});
  EXPECT_TRUE(FusedConvApplies(layer, w, x));
  EXPECT_FALSE(FusedConvApplies(layer, w, x.clone().requires_grad_(true)));
  EXPECT_FALSE(FusedConvApplies(layer, w.to(torch::kFloat64), x.to(torch::kFloat64)));
  EXPECT_FALSE(FusedConvApplies(testing::MnistLayout().layers()[1], w, x));  // fan_in 800.
}

TEST(BatchedForward, FusedFirstLayerGivesTheLibrarysLogitsAndGradients) {
  torch::manual_seed(14);
  const TargetLayout layout = testing::MnistLayout();
  WeightBatch w = testing::RandomWeights(layout, 4);
  for (at::Tensor& t : w) t = t.to(torch::kFloat32).requires_grad_(true);
  at::Tensor x = torch::rand({4, 6, 1, 28, 28});
  ForwardOptions library;
  library.fused_cpu_conv = false;
  at::Tensor fused_logits = BatchedForward(layout, w, x);
  at::Tensor library_logits = BatchedForward(layout, w, x, library);
  EXPECT_TRUE(torch::allclose(fused_logits, library_logits, 1e-4, 1e-4));
  at::Tensor grad_fused = torch::autograd::grad({fused_logits.sum()}, {w[0]})[0];
  at::Tensor grad_library = torch::autograd::grad({library_logits.sum()}, {w[0]})[0];
  EXPECT_TRUE(torch::allclose(grad_fused, grad_library, 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(SharedForward(layout, w, x[0]),
                              SharedForward(layout, w, x[0], library), 1e-4, 1e-4));
}

}  // namespace
}  // namespace hnet::core
