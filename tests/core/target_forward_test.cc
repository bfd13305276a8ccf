#include "core/target_forward.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/test_util.h"

namespace hnet::core {
namespace {

// Straightforward single-network forward with the NN library's layers, as a reference.
at::Tensor ReferenceForward(const TargetLayout& layout, const WeightBatch& w, int64_t n,
                            at::Tensor x) {
  for (int64_t l = 0; l < layout.num_layers(); ++l) {
    const LayerShape& layer = layout.layers()[l];
    at::Tensor filters = w[l][n];
    at::Tensor weights = filters.narrow(1, 0, layer.fan_in());
    at::Tensor bias = filters.select(1, layer.fan_in());
    if (layer.kind == LayerShape::Kind::kConv) {
      weights = weights.reshape({layer.filters, layer.in_channels, layer.kernel, layer.kernel});
      x = torch::conv2d(x, weights, bias, 1, layer.kernel / 2);
      x = torch::relu(x);
      if (layer.pool > 1) x = torch::max_pool2d(x, layer.pool, layer.pool, 0, 1, true);
    } else {
      x = torch::linear(x.flatten(1), weights, bias);
      if (layer.relu) x = torch::relu(x);
    }
  }
  return x;
}

TEST(BatchedForward, EqualsPerNetworkReference) {
  torch::manual_seed(1);
  const TargetLayout layout = testing::MnistLayout();
  const WeightBatch w = testing::RandomWeights(layout, 3);
  at::Tensor x = torch::rand({3, 4, 1, 28, 28}, torch::kFloat64);
  at::Tensor out = BatchedForward(layout, w, x);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 4, 10}));
  for (int64_t n = 0; n < 3; ++n) {
    EXPECT_TRUE(torch::allclose(out[n], ReferenceForward(layout, w, n, x[n]), 1e-8, 1e-10));
  }
  for (int64_t block : {1, 2, 3, 5}) {
    EXPECT_TRUE(torch::allclose(BatchedForward(layout, w, x, {block}), out, 1e-10, 1e-12)) << block;
  }
}

TEST(SharedForward, EqualsPerNetworkReference) {
  torch::manual_seed(2);
  const TargetLayout layout = testing::MnistLayout();
  const WeightBatch w = testing::RandomWeights(layout, 5);
  at::Tensor x = torch::rand({7, 1, 28, 28}, torch::kFloat64);
  at::Tensor out = SharedForward(layout, w, x);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{5, 7, 10}));
  for (int64_t n = 0; n < 5; ++n) {
    EXPECT_TRUE(torch::allclose(out[n], ReferenceForward(layout, w, n, x), 1e-8, 1e-10));
  }
}

TEST(BatchedForward, HandlesDenseOnlyAndOddSizedSpecs) {
  torch::manual_seed(3);
  hnet::v1::TargetSpec spec;
  spec.set_input_channels(2);
  spec.set_input_height(9);
  spec.set_input_width(9);
  auto* conv = spec.add_layers()->mutable_conv();
  conv->set_filters(3);
  conv->set_kernel(3);
  conv->set_pool(2);
  spec.add_layers()->mutable_dense()->set_units(6);
  spec.add_layers()->mutable_dense()->set_units(4);
  const TargetLayout layout = TargetLayout::Create(spec).value();
  const WeightBatch w = testing::RandomWeights(layout, 2);
  at::Tensor x = torch::rand({2, 3, 2, 9, 9}, torch::kFloat64);
  at::Tensor out = BatchedForward(layout, w, x);
  for (int64_t n = 0; n < 2; ++n) {
    EXPECT_TRUE(torch::allclose(out[n], ReferenceForward(layout, w, n, x[n]), 1e-8, 1e-10));
  }

  hnet::v1::TargetSpec mlp;
  mlp.set_input_channels(1);
  mlp.set_input_height(4);
  mlp.set_input_width(4);
  mlp.add_layers()->mutable_dense()->set_units(5);
  mlp.add_layers()->mutable_dense()->set_units(3);
  const TargetLayout mlp_layout = TargetLayout::Create(mlp).value();
  const WeightBatch mw = testing::RandomWeights(mlp_layout, 4);
  at::Tensor mx = torch::rand({6, 1, 4, 4}, torch::kFloat64);
  at::Tensor shared = SharedForward(mlp_layout, mw, mx);
  for (int64_t n = 0; n < 4; ++n) {
    EXPECT_TRUE(torch::allclose(shared[n], ReferenceForward(mlp_layout, mw, n, mx), 1e-8,
                                1e-10));
  }
}

TEST(FlattenWeights, RoundTripsThroughUnflatten) {
  torch::manual_seed(4);
  const TargetLayout layout = testing::MnistLayout();
  const WeightBatch w = testing::RandomWeights(layout, 3);
  at::Tensor flat = FlattenWeights(w);
  ASSERT_EQ(flat.sizes(), (std::vector<int64_t>{3, 20018}));
  const WeightBatch back = UnflattenWeights(layout, flat);
  for (size_t l = 0; l < w.size(); ++l) EXPECT_TRUE(torch::equal(back[l], w[l]));
}

TEST(CheckWeightBatch, RejectsWrongShapesNamingTheLayer) {
  const TargetLayout layout = testing::MnistLayout();
  WeightBatch w = testing::RandomWeights(layout, 2);
  EXPECT_TRUE(CheckWeightBatch(layout, w).ok());
  w[2] = torch::zeros({2, 8, 10});
  absl::Status s = CheckWeightBatch(layout, w);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("layer 2"), std::string::npos);
  w.pop_back();
  EXPECT_FALSE(CheckWeightBatch(layout, w).ok());
}

}  // namespace
}  // namespace hnet::core
