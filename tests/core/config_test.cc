#include "core/config.h"

#include <gtest/gtest.h>

#include <cmath>

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

TEST(Config, AnEmptyConfigGetsThePapersHypernetwork) {
  hnet::v1::TrainingConfig empty;
  empty.set_name("x");
  const auto defaulted = WithDefaults(empty);
  ASSERT_TRUE(ValidateConfig(defaulted).ok()) << ValidateConfig(defaulted);
  const auto mnist = WithDefaults(LoadConfig("mnist").value());
  EXPECT_EQ(defaulted.hypernet().DebugString(), mnist.hypernet().DebugString());
  EXPECT_EQ(defaulted.target().DebugString(), mnist.target().DebugString());

  // Generators given: the extractor is the config's own choice, an empty one included.
  hnet::v1::TrainingConfig own = mnist;
  own.mutable_hypernet()->clear_extractor_hidden();
  EXPECT_EQ(WithDefaults(own).hypernet().extractor_hidden_size(), 0);
  // Another target: no widths are made up for it.
  hnet::v1::TrainingConfig other = empty;
  *other.mutable_target() = mnist.target();
  other.mutable_target()->mutable_layers()->RemoveLast();
  EXPECT_EQ(WithDefaults(other).hypernet().generators_size(), 0);
}

TEST(Config, NonFiniteNumbersAreRefusedNamingTheField) {
  const auto good = WithDefaults(LoadConfig("mnist").value());
  auto config = good;
  config.mutable_hypernet()->set_batch_norm_decay(std::nan(""));
  absl::Status s = ValidateConfig(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("hypernet.batch_norm_decay: must be finite"), std::string::npos) << s;
  config = good;
  config.mutable_optimizer()->set_learning_rate(std::nan(""));
  EXPECT_NE(ValidateConfig(config).message().find("optimizer.learning_rate"), std::string::npos);
  config = good;
  config.set_lambda(INFINITY);
  EXPECT_NE(ValidateConfig(config).message().find("field lambda"), std::string::npos);
  auto toy = WithDefaults(LoadConfig("toy").value());
  toy.mutable_toy()->set_l2_weight(-INFINITY);
  EXPECT_NE(ValidateConfig(toy).message().find("toy.l2_weight"), std::string::npos)
      << ValidateConfig(toy);
}

TEST(Config, ParseErrorsNameTheLine) {
  auto bad = ParseConfig("seed: 1\nlambda: \"x\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status();
  EXPECT_EQ(LoadConfig("/no/such/config.textproto").status().code(), absl::StatusCode::kNotFound);
}

TEST(Config, ADirectoryOrAnEndlessFileIsNotAConfig) {
  // An empty text is a valid (all defaults) config, so these must fail before parsing.
  auto dir = LoadConfig("/tmp");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(dir.status().message().find("is a directory"), std::string::npos) << dir.status();
  auto endless = LoadConfig("/dev/zero");
  ASSERT_FALSE(endless.ok());
  EXPECT_NE(endless.status().message().find("larger than 1 MiB"), std::string::npos)
      << endless.status();
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

TEST(Config, OverrideReplacesListsAndKeepsExplicitZeros) {
  auto config = WithDefaults(LoadConfig("mnist").value());
  ASSERT_GT(config.hypernet().extractor_hidden_size(), 1);
  ASSERT_TRUE(config.diversity().scale_gauge());
  const int layers = config.target().layers_size();
  ASSERT_TRUE(ApplyConfigOverride(
                  "hypernet { extractor_hidden: [500] } diversity { scale_gauge: false }", &config)
                  .ok());
  EXPECT_EQ(config.hypernet().extractor_hidden_size(), 1);
  EXPECT_EQ(config.hypernet().extractor_hidden(0), 500);
  EXPECT_FALSE(config.diversity().scale_gauge());
  EXPECT_EQ(config.target().layers_size(), layers);  // Lists the fragment leaves alone stay.
  EXPECT_EQ(config.hypernet().z_dim(), 300);         // So do its siblings.

  ASSERT_TRUE(ApplyConfigOverride("target { layers { dense { units: 10 } } }", &config).ok());
  ASSERT_EQ(config.target().layers_size(), 1);
  EXPECT_EQ(config.target().layers(0).dense().units(), 10);
  EXPECT_EQ(config.target().input_height(), 28);
}

TEST(Config, BadOverrideNamesThePlaceAndChangesNothing) {
  const auto original = WithDefaults(LoadConfig("mnist").value());
  auto config = original;
  absl::Status s = ApplyConfigOverride("diversity { metric: L3 }", &config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1:"), std::string::npos) << s;
  EXPECT_NE(s.message().find("L3"), std::string::npos) << s;
  s = ApplyConfigOverride("hypernet { extractor_hidden: [7] } lambda: \"x\"", &config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.SerializeAsString(), original.SerializeAsString());
}

TEST(Config, SeedZeroIsASeed) {
  hnet::v1::TrainingConfig config;
  EXPECT_EQ(WithDefaults(config).seed(), 8734u);
  config.set_seed(0);
  EXPECT_EQ(WithDefaults(config).seed(), 0u);
  EXPECT_TRUE(WithDefaults(config).has_seed());
}

}  // namespace
}  // namespace hnet::core
