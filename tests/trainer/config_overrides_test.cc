#include "trainer/config_overrides.h"

#include <gtest/gtest.h>

#include "core/config.h"

namespace hnet::trainer {
namespace {

hnet::v1::TrainingConfig Mnist() { return core::LoadConfig("mnist").value(); }

TEST(ResolveConfig, GivenFlagsWinEvenWhenZero) {
  ConfigOverrides given;
  given.seed = 0;
  given.steps = 0;
  given.eval_every = 0;
  auto config = ResolveConfig(Mnist(), given);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->seed(), 0u);
  EXPECT_EQ(config->steps(), 0);
  EXPECT_EQ(config->eval().every_steps(), 0);
  EXPECT_NE(ResolveConfig(Mnist(), {})->seed(), 0u);  // Absent flags leave the config's.
}

TEST(ResolveConfig, OutOfRangeFlagsAreRefusedNotIgnored) {
  ConfigOverrides given;
  given.lambda = 0;
  absl::StatusOr<hnet::v1::TrainingConfig> config = ResolveConfig(Mnist(), given);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("lambda"), std::string::npos) << config.status();
  given = {};
  given.lambda = -5;
  EXPECT_EQ(ResolveConfig(Mnist(), given).status().code(), absl::StatusCode::kInvalidArgument);
  given = {};
  given.eval_networks = 0;
  config = ResolveConfig(Mnist(), given);
  EXPECT_NE(config.status().message().find("eval.networks"), std::string::npos) << config.status();
  given = {};
  given.steps = -1;
  EXPECT_EQ(ResolveConfig(Mnist(), given).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ResolveConfig, FragmentsApplyInOrderAndReplaceLists) {
  ConfigOverrides given;
  given.fragments = {"hypernet { extractor_hidden: [500] }", "lambda: 2e4",
                     "hypernet { extractor_hidden: [400, 400] }"};
  given.lambda = 3e4;
  auto config = ResolveConfig(Mnist(), given);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->hypernet().extractor_hidden_size(), 2);
  EXPECT_EQ(config->hypernet().extractor_hidden(0), 400);
  EXPECT_DOUBLE_EQ(config->lambda(), 3e4);  // Flags come after fragments.
}

TEST(ResolveConfig, BadFragmentIsNamed) {
  ConfigOverrides given;
  given.fragments = {"diversity { metric: L3 }"};
  absl::Status s = ResolveConfig(Mnist(), given).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--set 'diversity { metric: L3 }'"), std::string::npos) << s;
  given.fragments = {"hypernet { generators { hidden: 10 } }"};  // One generator for 4 layers.
  s = ResolveConfig(Mnist(), given).status();
  EXPECT_NE(s.message().find("hypernet.generators"), std::string::npos) << s;
}

}  // namespace
}  // namespace hnet::trainer
