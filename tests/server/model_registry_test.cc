// ModelRegistry loading and lookup, and ListModels/GetModelInfo over RPC.
#include "server/model_registry.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;

class ModelRegistryTest : public testing::ServerTest {};

TEST_F(ModelRegistryTest, LoadsEveryCheckpointNamedByItsStem) {
  testing::WriteTinyCheckpoint(ModelPath("other-model_v1.2"), /*torch_seed=*/2);
  std::ofstream(dir_ / "notes.txt") << "not a checkpoint";
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), {});
  ASSERT_TRUE(registry.ok()) << registry.status();
  std::vector<std::string> names;
  for (const auto& model : (*registry)->models()) names.push_back(model->name);
  EXPECT_EQ(names, (std::vector<std::string>{"other-model_v1.2", "tiny"}));
  auto tiny = (*registry)->Find("tiny");
  ASSERT_TRUE(tiny.ok());
  EXPECT_FALSE((*tiny)->network->is_training());
  EXPECT_EQ((*tiny)->content_hash.size(), 8u);
  EXPECT_EQ((*tiny)->version, 1);
  EXPECT_NE((*tiny)->content_hash, (*(*registry)->Find("other-model_v1.2"))->content_hash);
}

TEST_F(ModelRegistryTest, LooksNamesUpOnlyAmongLoadedModels) {
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), {});
  ASSERT_TRUE(registry.ok());
  auto missing = (*registry)->Find("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  for (const char* name : {"../tiny", "/etc/passwd", "tiny.hnet/..", "a b", ""}) {
    EXPECT_EQ((*registry)->Find(name).status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ((*registry)->Find("..").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelRegistryTest, RefusesACorruptCheckpointNamingTheFile) {
  {
    std::fstream f(ModelPath("tiny"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), {});
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(registry.status().message().find("tiny.hnet"), std::string::npos);
}

TEST_F(ModelRegistryTest, RefusesADirectoryWithoutCheckpoints) {
  std::filesystem::remove(ModelPath("tiny"));
  EXPECT_EQ(ModelRegistry::LoadDirectory(dir_.string(), {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ModelRegistry::LoadDirectory((dir_ / "missing").string(), {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ModelRegistryTest, ListModelsAndGetModelInfoDescribeTheCheckpoint) {
  StartServer();
  hnet::v1::ListModelsResponse list;
  ASSERT_TRUE(stub_->ListModels(Context().get(), {}, &list).ok());
  ASSERT_EQ(list.models_size(), 1);
  const hnet::v1::ModelInfo& info = list.models(0);
  EXPECT_EQ(info.name(), "tiny");
  EXPECT_EQ(info.version().size(), 8u);
  EXPECT_EQ(info.version_number(), 1);
  EXPECT_TRUE(info.latest());
  EXPECT_EQ(info.path(), ModelPath("tiny"));
  EXPECT_EQ(info.z_dim(), 8);
  EXPECT_EQ(info.z_distribution(), hnet::v1::HyperNetConfig::UNIFORM);
  EXPECT_EQ(info.step(), 42);
  EXPECT_EQ(info.lambda(), 1000);
  EXPECT_EQ(info.device(), "cpu");
  EXPECT_EQ(info.weight_count(), 20018);
  EXPECT_EQ(info.target().layers_size(), 4);
  EXPECT_DOUBLE_EQ(info.validation().mean_accuracy(), 0.5);
  ASSERT_EQ(info.layers_size(), 4);
  EXPECT_EQ(info.layers(1).name(), "layer1.conv5x5x16");
  EXPECT_EQ(info.layers(1).kind(), "conv");
  EXPECT_EQ(std::vector<int64_t>(info.layers(1).shape().begin(), info.layers(1).shape().end()),
            (std::vector<int64_t>{16, 801}));
  EXPECT_EQ(info.layers(3).kind(), "dense");
  EXPECT_EQ(info.parameter_count(), core::CountParameters(*testing::LoadLocal(ModelPath("tiny"))));

  hnet::v1::GetModelInfoRequest request;
  request.set_model("tiny");
  hnet::v1::ModelInfo single;
  ASSERT_TRUE(stub_->GetModelInfo(Context().get(), request, &single).ok());
  EXPECT_EQ(single.SerializeAsString(), info.SerializeAsString());
}

}  // namespace
}  // namespace hnet::server
