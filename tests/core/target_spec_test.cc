#include "core/target_spec.h"

#include <gtest/gtest.h>

namespace hnet::core {
namespace {

TEST(TargetLayout, MnistSpecHasPaperWeightCounts) {
  auto layout = TargetLayout::Create(MnistTargetSpec());
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->weight_count(), 20018);
  ASSERT_EQ(layout->num_layers(), 4);
  EXPECT_EQ(layout->layers()[0].weight_count(), 832);
  EXPECT_EQ(layout->layers()[1].weight_count(), 12816);
  EXPECT_EQ(layout->layers()[2].weight_count(), 6280);
  EXPECT_EQ(layout->layers()[3].weight_count(), 90);
  EXPECT_EQ(layout->layers()[0].filter_size(), 26);
  EXPECT_EQ(layout->layers()[1].filter_size(), 801);
  EXPECT_EQ(layout->layers()[2].filter_size(), 785);
  EXPECT_EQ(layout->layers()[1].out_height, 7);
  EXPECT_FALSE(layout->layers()[3].relu);
  EXPECT_EQ(layout->num_classes(), 10);
}

TEST(TargetLayout, SamePoolingRoundsUp) {
  hnet::v1::TargetSpec spec;
  spec.set_input_channels(3);
  spec.set_input_height(9);
  spec.set_input_width(7);
  auto* conv = spec.add_layers()->mutable_conv();
  conv->set_filters(4);
  conv->set_kernel(3);
  conv->set_pool(2);
  spec.add_layers()->mutable_dense()->set_units(5);
  auto layout = TargetLayout::Create(spec);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->layers()[0].out_height, 5);
  EXPECT_EQ(layout->layers()[0].out_width, 4);
  EXPECT_EQ(layout->layers()[1].fan_in(), 4 * 5 * 4);
}

TEST(TargetLayout, RejectsInvalidSpecsNamingTheField) {
  hnet::v1::TargetSpec spec = MnistTargetSpec();
  spec.mutable_layers(1)->mutable_conv()->set_kernel(0);
  auto bad_kernel = TargetLayout::Create(spec);
  EXPECT_EQ(bad_kernel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_kernel.status().message().find("layers[1]"), std::string::npos);

  spec = MnistTargetSpec();
  spec.mutable_layers(3)->mutable_conv()->set_filters(10);  // Last layer not dense.
  EXPECT_FALSE(TargetLayout::Create(spec).ok());

  spec = MnistTargetSpec();
  spec.set_input_height(0);
  EXPECT_FALSE(TargetLayout::Create(spec).ok());

  spec = MnistTargetSpec();
  spec.clear_layers();
  EXPECT_FALSE(TargetLayout::Create(spec).ok());
}

TEST(TargetLayout, RejectsSpecsWhoseWeightCountOverflowsNamingTheLayer) {
  // Dense after a 2^31 - 1 square input: fan_in overflows int64 (about 2^93).
  hnet::v1::TargetSpec spec;
  spec.set_input_channels(2147483647);
  spec.set_input_height(2147483647);
  spec.set_input_width(2147483647);
  spec.add_layers()->mutable_dense()->set_units(10);
  auto overflow = TargetLayout::Create(spec);
  EXPECT_EQ(overflow.status().code(), absl::StatusCode::kInvalidArgument) << overflow.status();
  EXPECT_NE(overflow.status().message().find("layers[0] (dense10)"), std::string::npos)
      << overflow.status();

  // A conv whose fan_in fits but whose filters * filter_size overflows.
  spec = MnistTargetSpec();
  spec.mutable_layers(0)->mutable_conv()->set_kernel(2147483647);
  spec.mutable_layers(0)->mutable_conv()->set_filters(2147483647);
  auto conv = TargetLayout::Create(spec);
  EXPECT_EQ(conv.status().code(), absl::StatusCode::kInvalidArgument) << conv.status();
  EXPECT_NE(conv.status().message().find("layers[0]"), std::string::npos) << conv.status();

  // No single product overflows, but the network passes kMaxTargetWeights: the second layer.
  spec = MnistTargetSpec();
  spec.mutable_layers(2)->mutable_dense()->set_units(3000000);  // 785 x 3e6 weights.
  auto large = TargetLayout::Create(spec);
  EXPECT_EQ(large.status().code(), absl::StatusCode::kInvalidArgument) << large.status();
  EXPECT_NE(large.status().message().find("layers[2]"), std::string::npos) << large.status();

  // Just below the bound is fine: 1,073,741,823 units of one weight and one bias each.
  spec = hnet::v1::TargetSpec();
  spec.set_input_channels(1);
  spec.set_input_height(1);
  spec.set_input_width(1);
  spec.add_layers()->mutable_dense()->set_units(1073741823);
  auto bound = TargetLayout::Create(spec);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ(bound->weight_count(), kMaxTargetWeights - 1);
}

}  // namespace
}  // namespace hnet::core
