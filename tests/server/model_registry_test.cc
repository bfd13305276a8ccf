// ModelRegistry loading and lookup, and ListModels/GetModelInfo over RPC.
#include "server/model_registry.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <fstream>
#include <tuple>

#include "absl/strings/str_cat.h"
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

TEST_F(ModelRegistryTest, RefusesADirectoryWhoseOnlyCheckpointIsCorruptNamingTheFile) {
  testing::CorruptCheckpoint(ModelPath("tiny"));
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), {});
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(registry.status().message().find("no servable"), std::string::npos);
  EXPECT_NE(registry.status().message().find("tiny.hnet"), std::string::npos);
}

TEST_F(ModelRegistryTest, SkipsACorruptCheckpointAndServesTheRest) {
  testing::WriteTinyCheckpoint(ModelPath("broken"), 2);
  testing::CorruptCheckpoint(ModelPath("broken"));
  // tiny: a corrupt version 3 leaves its place to version 2.
  std::filesystem::create_directories(dir_ / "versioned");
  testing::WriteTinyCheckpoint((dir_ / "versioned" / "2.hnet").string(), 3);
  testing::WriteTinyCheckpoint((dir_ / "versioned" / "3.hnet").string(), 4);
  testing::CorruptCheckpoint((dir_ / "versioned" / "3.hnet").string());
  ASSERT_EQ(::mkfifo((dir_ / "pipe.hnet").c_str(), 0600), 0);  // Not a regular file: ignored.
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), {});
  ASSERT_TRUE(registry.ok()) << registry.status();
  std::vector<std::string> loaded;
  for (const auto& model : (*registry)->models()) {
    loaded.push_back(absl::StrCat(model->name, " ", model->version));
  }
  EXPECT_EQ(loaded, (std::vector<std::string>{"tiny 1", "versioned 2"}));
}

TEST_F(ModelRegistryTest, LoadingStopsBetweenFilesWhenAskedTo) {
  testing::WriteTinyCheckpoint(ModelPath("second"), 2);
  int polls = 0;
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), {}, [&] { return ++polls > 1; });
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(polls, 2);  // Asked before each file; the first one loaded.
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
  EXPECT_EQ(info.content_hash(), info.version());
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

TEST_F(ModelRegistryTest, ListModelsPagesThroughEveryVersionOnce) {
  registry_options_.keep_versions = 2;
  std::filesystem::create_directories(dir_ / "b");
  testing::WriteTinyCheckpoint((dir_ / "b" / "1.hnet").string(), 2);
  testing::WriteTinyCheckpoint((dir_ / "b" / "2.hnet").string(), 3);
  testing::WriteTinyCheckpoint(ModelPath("a"), 4);
  StartServer();
  hnet::v1::ListModelsRequest request;
  request.set_page_size(2);
  std::vector<std::string> seen;
  std::vector<std::string> tokens;
  for (int page = 0; page < 10; ++page) {
    hnet::v1::ListModelsResponse response;
    ASSERT_TRUE(stub_->ListModels(Context().get(), request, &response).ok());
    EXPECT_LE(response.models_size(), 2);
    for (const auto& m : response.models()) {
      seen.push_back(absl::StrCat(m.name(), " ", m.version_number(), m.latest() ? " latest" : ""));
    }
    if (response.next_page_token().empty()) break;
    tokens.push_back(response.next_page_token());
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a 1 latest", "b 2 latest", "b 1", "tiny 1 latest"}));
  EXPECT_EQ(tokens.size(), 1u);
  // page_size 0 is everything at once, as before pagination.
  hnet::v1::ListModelsResponse all;
  ASSERT_TRUE(stub_->ListModels(Context().get(), {}, &all).ok());
  EXPECT_EQ(all.models_size(), 4);
  EXPECT_TRUE(all.next_page_token().empty());
  for (const auto& [size, token, field] :
       std::vector<std::tuple<int, std::string, std::string>>{{-1, "", "page_size:"},
                                                              {1, "garbage", "page_token:"},
                                                              {1, "a@0", "page_token:"},
                                                              {1, "../x@1", "page_token:"}}) {
    hnet::v1::ListModelsRequest bad;
    bad.set_page_size(size);
    bad.set_page_token(token);
    hnet::v1::ListModelsResponse response;
    grpc::Status status = stub_->ListModels(Context().get(), bad, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_EQ(status.error_message().rfind(field, 0), 0u) << status.error_message();
  }
}

TEST(PageOfModels, ATokenWhoseModelIsGoneStartsWhereItWouldBe) {
  auto model = [](const std::string& name, int64_t version) {
    auto m = std::make_shared<LoadedModel>();
    m->name = name;
    m->version = version;
    return ModelPtr(m);
  };
  const std::vector<ModelPtr> models = {model("a", 1), model("c", 3), model("c", 1)};
  auto page = PageOfModels(models, 1, "c@2");  // c version 2 was unloaded after it was issued.
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->models.size(), 1u);
  EXPECT_EQ(page->models[0]->version, 1);
  EXPECT_EQ(page->next_page_token, "");
  page = PageOfModels(models, 1, "b@7");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->models[0]->name, "c");
  EXPECT_EQ(page->models[0]->version, 3);
  EXPECT_EQ(page->next_page_token, "c@1");
}

}  // namespace
}  // namespace hnet::server
