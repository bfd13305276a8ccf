#include "client/options.h"

#include <gtest/gtest.h>

namespace hnet::client {
namespace {

ClientOptions Valid() {
  ClientOptions options;
  options.addresses = {"localhost:50051"};
  return options;
}

void ExpectInvalid(const absl::Status& s, absl::string_view field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find(field), std::string::npos) << s;
}

TEST(OptionsTest, DefaultsWithAnAddressAreValid) {
  EXPECT_TRUE(ValidateClientOptions(Valid()).ok());
  EXPECT_EQ(Valid().deadline, absl::Seconds(30));
  EXPECT_EQ(Valid().max_message_bytes, 64 << 20);
}

TEST(OptionsTest, ClientOptionErrorsNameTheField) {
  ExpectInvalid(ValidateClientOptions(ClientOptions()), "ClientOptions.addresses");
  ClientOptions o = Valid();
  o.addresses.push_back("");
  ExpectInvalid(ValidateClientOptions(o), "addresses[1]");
  o = Valid();
  o.deadline = absl::ZeroDuration();
  ExpectInvalid(ValidateClientOptions(o), "deadline");
  o = Valid();
  o.max_message_bytes = int64_t{1} << 32;
  ExpectInvalid(ValidateClientOptions(o), "max_message_bytes");
  o = Valid();
  o.max_attempts = 0;
  ExpectInvalid(ValidateClientOptions(o), "max_attempts");
  o = Valid();
  o.backoff_multiplier = 0.5;
  ExpectInvalid(ValidateClientOptions(o), "backoff_multiplier");
  o = Valid();
  o.async_threads = 0;
  ExpectInvalid(ValidateClientOptions(o), "async_threads");
  o = Valid();
  o.tls.private_key_pem = "key";
  ExpectInvalid(ValidateClientOptions(o), "tls");
}

TEST(OptionsTest, SampleOptions) {
  SampleOptions o;
  ExpectInvalid(ValidateSampleOptions(o), "SampleOptions.noise: set seed or z");
  o.noise = Noise::FromSeed(1);
  EXPECT_TRUE(ValidateSampleOptions(o).ok());
  o.n = 0;
  ExpectInvalid(ValidateSampleOptions(o), "SampleOptions.n");
  o.noise = Noise::FromZ(*MakeFloat32(std::vector<float>{1, 2}, {2, 1}));
  EXPECT_TRUE(ValidateSampleOptions(o).ok());  // n is ignored with z
  o.noise.seed = 3;
  ExpectInvalid(ValidateSampleOptions(o), "not both");
  o = SampleOptions();
  o.noise = Noise::FromSeed(1);
  o.permutation_gauge = true;
  ExpectInvalid(ValidateSampleOptions(o), "permutation_gauge");
}

TEST(OptionsTest, ModelVersionMustNotBeNegative) {
  SampleOptions sample;
  sample.noise = Noise::FromSeed(1);
  sample.version = 3;
  EXPECT_TRUE(ValidateSampleOptions(sample).ok());
  sample.version = -1;
  ExpectInvalid(ValidateSampleOptions(sample), "SampleOptions.version");
  ClassifyOptions classify;
  classify.version = -2;
  ExpectInvalid(ValidateClassifyOptions(*MakeUint8(std::vector<uint8_t>(8), {2, 2, 2}), classify),
                "ClassifyOptions.version");
  PathOptions path;
  path.version = -3;
  ExpectInvalid(ValidatePathOptions(path), "PathOptions.version");
}

TEST(OptionsTest, NoiseZMustBeFloat32OfTheRightRank) {
  Noise noise = Noise::FromZ(*MakeUint8(std::vector<uint8_t>{1, 2}, {1, 2}));
  ExpectInvalid(ValidateNoise(noise, "f", 2), "f.z: dtype");
  noise = Noise::FromZ(*MakeFloat32(std::vector<float>{1, 2}));
  ExpectInvalid(ValidateNoise(noise, "f", 2), "[n, z_dim]");
  EXPECT_TRUE(ValidateNoise(noise, "f", 1).ok());
  noise = Noise::FromZ(*MakeFloat32(std::vector<float>{1, 2}, {1, 2}));
  EXPECT_TRUE(ValidateNoise(noise, "f", 1).ok());
}

TEST(OptionsTest, ClassifyInputs) {
  const Tensor images = *MakeUint8(std::vector<uint8_t>(8), {2, 2, 2});
  ExpectInvalid(ValidateClassifyOptions(images, {}), "ClassifyOptions.noise: set seed or z");
  ClassifyOptions seeded;
  seeded.noise = Noise::FromSeed(1);
  EXPECT_TRUE(ValidateClassifyOptions(images, seeded).ok());
  seeded.noise = Noise::FromZ(*MakeFloat32(std::vector<float>{1, 2}, {2, 1}));
  EXPECT_TRUE(ValidateClassifyOptions(images, seeded).ok());
  ExpectInvalid(ValidateClassifyOptions(*MakeUint8(std::vector<uint8_t>(8), {8}), {}),
                "inputs: shape");
  ExpectInvalid(ValidateClassifyOptions(*MakeTensor<int64_t>(std::vector<int64_t>(8), {2, 2, 2}),
                                        {}),
                "inputs: dtype");
  ClassifyOptions o;
  o.noise = Noise::FromSeed(1);
  o.ensemble_size = 0;
  ExpectInvalid(ValidateClassifyOptions(images, o), "ClassifyOptions.ensemble_size");
}

// Path options with both endpoints set.
PathOptions SeededPath() {
  PathOptions o;
  o.start = Noise::FromSeed(0);
  o.end = Noise::FromSeed(1);
  return o;
}

TEST(OptionsTest, PathOptions) {
  PathOptions o;
  ExpectInvalid(ValidatePathOptions(o), "PathOptions.start: set seed or z");
  o.start = Noise::FromSeed(0);
  ExpectInvalid(ValidatePathOptions(o), "PathOptions.end: set seed or z");
  o = SeededPath();
  EXPECT_TRUE(ValidatePathOptions(o).ok());
  o.points = 1;
  ExpectInvalid(ValidatePathOptions(o), "PathOptions.points");
  o = SeededPath();
  o.inputs = *MakeUint8(std::vector<uint8_t>(8), {2, 2, 2});
  ExpectInvalid(ValidatePathOptions(o), "PathOptions.labels");
  o.labels = *MakeTensor<int64_t>(std::vector<int64_t>{1, 2, 3});
  ExpectInvalid(ValidatePathOptions(o), "shape must be [2]");
  o.labels = *MakeTensor<int64_t>(std::vector<int64_t>{1, 2});
  EXPECT_TRUE(ValidatePathOptions(o).ok());
  o.start = Noise::FromZ(*MakeFloat32(std::vector<float>{1, 2}, {2, 1}));
  ExpectInvalid(ValidatePathOptions(o), "PathOptions.start.z");
}

}  // namespace
}  // namespace hnet::client
