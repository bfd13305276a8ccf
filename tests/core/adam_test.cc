#include "core/adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace hnet::core {
namespace {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

at::Tensor Param() { return torch::randn({2, 3}, torch::requires_grad()); }

// An optimizer of one [2, 3] parameter after `steps` updates with gradient 1.
Adam Trained(at::Tensor& param, int steps) {
  Adam adam({{"w", param}}, AdamOptions{});
  for (int i = 0; i < steps; ++i) {
    param.mutable_grad() = torch::ones_like(param);
    adam.Step(0.1);
  }
  return adam;
}

NamedTensors Replace(NamedTensors state, const std::string& name, at::Tensor value) {
  for (auto& [key, tensor] : state) {
    if (key == name) tensor = value;
  }
  return state;
}

TEST(AdamImportState, RestoresWhatWasExported) {
  torch::manual_seed(1);
  at::Tensor a = Param(), b = Param();
  Adam source = Trained(a, 4);
  Adam target = Trained(b, 0);
  ASSERT_TRUE(target.ImportState(source.ExportState()).ok());
  EXPECT_EQ(target.steps(), 4);
  EXPECT_TRUE(torch::equal(target.ExportState()[1].second, source.ExportState()[1].second));
}

TEST(AdamImportState, RefusesAStepThatIsNotAnIntegerScalarWithoutThrowingOrChanging) {
  torch::manual_seed(2);
  at::Tensor a = Param(), b = Param();
  const NamedTensors saved = Trained(a, 2).ExportState();
  Adam target = Trained(b, 1);
  const at::Tensor m_before = target.ExportState()[1].second.clone();
  for (const at::Tensor& step :
       {torch::tensor(std::numeric_limits<double>::infinity(), torch::kFloat64),
        torch::tensor(std::numeric_limits<double>::quiet_NaN(), torch::kFloat64),
        torch::tensor(2.0, torch::kFloat32), torch::tensor(true), torch::tensor({2}, torch::kInt64),
        torch::tensor(int64_t{-1})}) {
    const absl::Status s = target.ImportState(Replace(saved, "step", step));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << step;
    EXPECT_NE(s.message().find("'step'"), std::string::npos) << s;
    EXPECT_EQ(target.steps(), 1);
    EXPECT_TRUE(torch::equal(target.ExportState()[1].second, m_before));
  }
  // Any integer type is a step count.
  EXPECT_TRUE(target.ImportState(Replace(saved, "step", torch::tensor(2, torch::kInt32))).ok());
  EXPECT_EQ(target.steps(), 2);
}

TEST(AdamImportState, RefusesNonFiniteMomentsAndNegativeSecondMoments) {
  torch::manual_seed(3);
  at::Tensor a = Param(), b = Param();
  const NamedTensors saved = Trained(a, 2).ExportState();
  Adam target = Trained(b, 0);
  at::Tensor bad_m = torch::zeros({2, 3});
  bad_m[1][2] = std::numeric_limits<float>::infinity();
  absl::Status s = target.ImportState(Replace(saved, "w.m", bad_m));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'w.m'"), std::string::npos) << s;
  at::Tensor bad_v = torch::ones({2, 3});
  bad_v[0][0] = -1;
  s = target.ImportState(Replace(saved, "w.v", bad_v));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'w.v' has negative entries"), std::string::npos) << s;
  EXPECT_EQ(target.steps(), 0);
}

}  // namespace
}  // namespace hnet::core
