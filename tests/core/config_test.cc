#include "core/config.h"

#include <gtest/gtest.h>

namespace hnet::core {
namespace {

TEST(Config, ShippedConfigsParseAndValidate) {
  for (const auto& [name, text] : ShippedConfigs()) {
    auto config = LoadConfig(name);
    ASSERT_TRUE(config.ok()) << name << ": " << config.status();
    EXPECT_TRUE(ValidateConfig(WithDefaults(*config)).ok()) << name;
  }
  auto mnist = WithDefaults(LoadConfig("mnist").value());
  EXPECT_EQ(mnist.seed(), 8734u);
  EXPECT_EQ(mnist.batch_networks(), 32);
  EXPECT_EQ(mnist.images_per_network(), 32);
  EXPECT_DOUBLE_EQ(mnist.lambda(), 1e3);
  EXPECT_DOUBLE_EQ(mnist.optimizer().learning_rate(), 3e-4);
  EXPECT_DOUBLE_EQ(mnist.optimizer().decay_per_step(), 0.99998);
  EXPECT_TRUE(LoadConfig("toy").value().has_toy());
}

TEST(Config, ParseErrorsNameTheLine) {
  auto bad = ParseConfig("seed: 1\nlambda: \"x\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status();
  EXPECT_EQ(LoadConfig("/no/such/config.textproto").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Config, ValidationNamesTheField) {
  auto config = WithDefaults(LoadConfig("mnist").value());
  config.set_batch_networks(1);
  absl::Status s = ValidateConfig(config);
  EXPECT_NE(s.message().find("batch_networks"), std::string::npos) << s;
  config = WithDefaults(LoadConfig("mnist").value());
  config.mutable_hypernet()->mutable_generators()->RemoveLast();
  s = ValidateConfig(config);
  EXPECT_NE(s.message().find("hypernet.generators"), std::string::npos) << s;
  config = WithDefaults(LoadConfig("mnist").value());
  config.mutable_data()->set_max_shift(28);
  s = ValidateConfig(config);
  EXPECT_NE(s.message().find("data.max_shift: must be in [0, 28)"), std::string::npos) << s;
  config = WithDefaults(LoadConfig("mnist").value());
  config.mutable_optimizer()->set_anneal_final_fraction(1.5);
  s = ValidateConfig(config);
  EXPECT_NE(s.message().find("optimizer.anneal_final_fraction"), std::string::npos) << s;
  config.mutable_optimizer()->set_anneal_final_fraction(0.1);
  config.mutable_optimizer()->set_anneal_steps(-1);
  s = ValidateConfig(config);
  EXPECT_NE(s.message().find("optimizer.anneal_steps"), std::string::npos) << s;
}

}  // namespace
}  // namespace hnet::core
