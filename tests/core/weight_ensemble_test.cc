#include "core/weight_ensemble.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "core/checkpoint.h"
#include "core/container.h"
#include "core/hypernetwork.h"
#include "core/target_forward.h"
#include "tests/core/test_util.h"

namespace hnet::core {
namespace {

class WeightEnsembleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hnet_wens_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static WeightEnsemble MakeEnsemble(int64_t n) {
    torch::manual_seed(7);
    WeightEnsemble ensemble;
    ensemble.spec = MnistTargetSpec();
    ensemble.weights =
        FlattenWeights(testing::RandomWeights(testing::MnistLayout(), n)).to(torch::kFloat32);
    ensemble.description = "test ensemble";
    ensemble.config = testing::MnistConfig();
    return ensemble;
  }
  static std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(WeightEnsembleTest, RoundTripIsExact) {
  const WeightEnsemble ensemble = MakeEnsemble(3);
  const std::string path = Path("e.hnetw");
  ASSERT_TRUE(SaveWeightEnsemble(path, ensemble).ok());
  auto loaded = LoadWeightEnsemble(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->weights.scalar_type(), torch::kFloat32);
  EXPECT_EQ(loaded->weights.sizes(), (std::vector<int64_t>{3, 20018}));
  EXPECT_TRUE(torch::equal(loaded->weights, ensemble.weights));
  EXPECT_EQ(loaded->spec.SerializeAsString(), ensemble.spec.SerializeAsString());
  EXPECT_EQ(loaded->description, "test ensemble");
  EXPECT_EQ(loaded->config.SerializeAsString(), ensemble.config.SerializeAsString());
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {  // No temporary file.
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST_F(WeightEnsembleTest, StoresOtherDtypesAsFloat32) {
  WeightEnsemble ensemble = MakeEnsemble(2);
  const at::Tensor as_float = ensemble.weights.clone();
  ensemble.weights = ensemble.weights.to(torch::kFloat64);
  const std::string path = Path("e.hnetw");
  ASSERT_TRUE(SaveWeightEnsemble(path, ensemble).ok());
  auto loaded = LoadWeightEnsemble(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(torch::equal(loaded->weights, as_float));
}

TEST_F(WeightEnsembleTest, CheckpointAndEnsembleRefuseEachOther) {
  const std::string ensemble_path = Path("e.hnetw");
  ASSERT_TRUE(SaveWeightEnsemble(ensemble_path, MakeEnsemble(2)).ok());
  auto as_checkpoint = ReadCheckpoint(ensemble_path);
  EXPECT_EQ(as_checkpoint.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(as_checkpoint.status().message().find("is a weight ensemble, not a checkpoint"),
            std::string::npos)
      << as_checkpoint.status();
  EXPECT_NE(as_checkpoint.status().message().find(ensemble_path), std::string::npos);

  torch::manual_seed(3);
  HyperNetwork model(testing::MnistLayout(), testing::MnistConfig().hypernet());
  hnet::v1::Checkpoint ckpt;
  ckpt.set_format_version(kCheckpointFormatVersion);
  SaveModule(*model, &ckpt);
  const std::string ckpt_path = Path("m.hnet");
  ASSERT_TRUE(WriteCheckpoint(ckpt_path, ckpt).ok());
  auto as_ensemble = LoadWeightEnsemble(ckpt_path);
  EXPECT_EQ(as_ensemble.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(as_ensemble.status().message().find("is a checkpoint, not a weight ensemble"),
            std::string::npos)
      << as_ensemble.status();
  EXPECT_NE(as_ensemble.status().message().find(ckpt_path), std::string::npos);
}

TEST_F(WeightEnsembleTest, SaveRefusesShapeMismatchAndBadSpec) {
  WeightEnsemble ensemble = MakeEnsemble(2);
  ensemble.weights = ensemble.weights.narrow(1, 0, 20000);
  absl::Status s = SaveWeightEnsemble(Path("e.hnetw"), ensemble);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("20018"), std::string::npos) << s;
  EXPECT_NE(s.message().find(Path("e.hnetw")), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(Path("e.hnetw")));

  ensemble = MakeEnsemble(2);
  ensemble.weights = ensemble.weights.reshape({2, 1, 20018});
  EXPECT_EQ(SaveWeightEnsemble(Path("e.hnetw"), ensemble).code(),
            absl::StatusCode::kInvalidArgument);

  ensemble = MakeEnsemble(2);
  ensemble.spec.clear_layers();
  EXPECT_EQ(SaveWeightEnsemble(Path("e.hnetw"), ensemble).code(),
            absl::StatusCode::kInvalidArgument);

  ensemble = MakeEnsemble(2);
  ensemble.weights[1][5] = std::numeric_limits<float>::quiet_NaN();
  s = SaveWeightEnsemble(Path("e.hnetw"), ensemble);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("NaN"), std::string::npos) << s;
}

// Writes an MNIST-spec ensemble file with `weights` as given, through the container directly,
// bypassing SaveWeightEnsemble's checks.
absl::Status WriteUncheckedEnsemble(const std::string& path, const at::Tensor& weights) {
  hnet::v1::WeightEnsembleFile file;
  file.set_format_version(kWeightEnsembleFormatVersion);
  *file.mutable_spec() = MnistTargetSpec();
  *file.mutable_weights() = TensorToProto(weights);
  std::string payload;
  if (!file.SerializeToString(&payload)) return absl::InternalError("serialize");
  return WriteContainerFile(path, kWeightEnsembleContainer, kWeightEnsembleFormatVersion, payload);
}

TEST_F(WeightEnsembleTest, LoadRefusesWeightsThatDoNotMatchTheSpec) {
  // A well-formed file whose spec and weights disagree (written through the container directly).
  const std::string path = Path("e.hnetw");
  ASSERT_TRUE(WriteUncheckedEnsemble(path, torch::zeros({2, 100})).ok());
  auto loaded = LoadWeightEnsemble(path);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("20018"), std::string::npos) << loaded.status();

  ASSERT_TRUE(WriteUncheckedEnsemble(path, torch::zeros({2, 20018}, torch::kFloat64)).ok());
  loaded = LoadWeightEnsemble(path);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("float32"), std::string::npos) << loaded.status();
}

TEST_F(WeightEnsembleTest, LoadRefusesNonFiniteWeights) {
  // Written through the container: SaveWeightEnsemble itself refuses such weights.
  at::Tensor weights = torch::zeros({2, 20018});
  weights[1][7] = std::numeric_limits<float>::quiet_NaN();
  const std::string path = Path("e.hnetw");
  ASSERT_TRUE(WriteUncheckedEnsemble(path, weights).ok());
  auto loaded = LoadWeightEnsemble(path);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find(path), std::string::npos) << loaded.status();
  EXPECT_NE(loaded.status().message().find("non-finite"), std::string::npos) << loaded.status();
}

TEST_F(WeightEnsembleTest, RefusesTruncatedCorruptedAndMissingFiles) {
  const std::string path = Path("e.hnetw");
  ASSERT_TRUE(SaveWeightEnsemble(path, MakeEnsemble(2)).ok());
  const std::string good = ReadBytes(path);

  WriteBytes(path, good.substr(0, good.size() - 1));
  auto truncated = LoadWeightEnsemble(path);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);
  EXPECT_NE(truncated.status().message().find(path), std::string::npos);
  WriteBytes(path, good.substr(0, 12));
  EXPECT_EQ(LoadWeightEnsemble(path).status().code(), absl::StatusCode::kDataLoss);

  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x10;
  WriteBytes(path, flipped);
  auto corrupt = LoadWeightEnsemble(path);
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(corrupt.status().message().find("checksum"), std::string::npos);

  WriteBytes(path, "plain text, not an ensemble");
  EXPECT_EQ(LoadWeightEnsemble(path).status().code(), absl::StatusCode::kDataLoss);

  std::string other_version = good;
  other_version[8] = 9;
  WriteBytes(path, other_version);
  auto version = LoadWeightEnsemble(path);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(version.status().message().find("version 9"), std::string::npos);

  auto missing = LoadWeightEnsemble(Path("missing.hnetw"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.hnetw"), std::string::npos);
}

}  // namespace
}  // namespace hnet::core
