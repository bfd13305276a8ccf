// Versions: the directory layout, the registry's version map and --keep_versions, pinned
// versions over RPC, and cache keys that name the exact load of a version.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <fstream>

#include "server/classify_batcher.h"
#include "server/model_directory.h"
#include "server/weight_cache.h"
#include "tests/server/model_lifecycle_util.h"

namespace hnet::server {
namespace {

using testing::ContentHash;
using testing::Context;
using testing::LocalWeights;
using testing::SameWeights;

void Touch(const std::filesystem::path& path) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << "x";
}

ModelPtr FakeModel(const std::string& name, int64_t version, uint64_t load_id = 0) {
  auto model = std::make_shared<LoadedModel>();
  model->name = name;
  model->version = version;
  model->content_hash = "0000abcd";
  model->load_id = load_id;
  return model;
}

std::vector<int64_t> VersionsOf(const ModelRegistry& registry, const std::string& name) {
  std::vector<int64_t> out;
  for (const ModelPtr& model : registry.Versions(name)) out.push_back(model->version);
  return out;
}

TEST(ModelDirectoryTest, FindsSingleFilesAndVersionFoldersAndSkipsTheRest) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("hnet_scan_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Touch(dir / "solo.hnet");
  Touch(dir / "solo.hnet.tmp.12");  // Being written: ignored silently.
  Touch(dir / "multi" / "1.hnet");
  Touch(dir / "multi" / "12.hnet");
  Touch(dir / "multi" / "3.hnet");
  Touch(dir / "multi" / "4.hnet.tmp.77");
  Touch(dir / "multi" / "notes.txt");
  Touch(dir / "multi" / "latest.hnet");  // Not a version.
  Touch(dir / "multi" / "0.hnet");       // Versions start at 1.
  Touch(dir / "both.hnet");              // Loses to both/1.hnet.
  Touch(dir / "both" / "1.hnet");
  Touch(dir / "bad name.hnet");

  auto scan = ScanModelDirectory(dir.string());
  ASSERT_TRUE(scan.ok()) << scan.status();
  std::vector<std::string> files;
  for (const CheckpointFile& f : scan->files) {
    files.push_back(absl::StrCat(f.name, "@", f.version, "=",
                                 std::filesystem::path(f.path).lexically_relative(dir).string()));
    EXPECT_EQ(f.stamp.size, 1u);
  }
  EXPECT_EQ(files, (std::vector<std::string>{"both@1=both/1.hnet", "multi@12=multi/12.hnet",
                                             "multi@3=multi/3.hnet", "multi@1=multi/1.hnet",
                                             "solo@1=solo.hnet"}));
  const std::string skipped = absl::StrJoin(scan->skipped, "\n");
  EXPECT_EQ(scan->skipped.size(), 4u) << skipped;
  for (const char* name : {"latest.hnet", "0.hnet", "both.hnet", "bad name.hnet"}) {
    EXPECT_NE(skipped.find(name), std::string::npos) << name << " in\n" << skipped;
  }
  EXPECT_EQ(ScanModelDirectory((dir / "missing").string()).status().code(),
            absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(ModelRegistryVersionsTest, ServesTheHighestVersionAndFindsPinnedOnes) {
  RegistryOptions options;
  options.keep_versions = 3;
  ModelRegistry registry({FakeModel("m", 2), FakeModel("m", 7), FakeModel("other", 1)}, options);
  EXPECT_EQ((*registry.Find("m"))->version, 7);
  EXPECT_EQ((*registry.Find("m", 2))->version, 2);
  auto missing = registry.Find("m", 3);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'m' version 3 is not loaded (loaded: 7, 2)"),
            std::string::npos)
      << missing.status();
  EXPECT_EQ(registry.Find("m", -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.size(), 3u);
  std::vector<std::string> all;
  for (const ModelPtr& model : registry.models()) {
    all.push_back(absl::StrCat(model->name, "@", model->version));
  }
  EXPECT_EQ(all, (std::vector<std::string>{"m@7", "m@2", "other@1"}));

  EXPECT_EQ(registry.Remove("m", 7)->version, 7);
  EXPECT_EQ(registry.Remove("m", 7), nullptr);
  EXPECT_EQ((*registry.Find("m"))->version, 2);
}

TEST(ModelRegistryVersionsTest, KeepVersionsUnloadsTheLowestAndPutReplacesTheSameVersion) {
  RegistryOptions options;
  options.keep_versions = 2;
  ModelRegistry registry({}, options);
  EXPECT_TRUE(registry.Put(FakeModel("m", 1)).empty());
  EXPECT_TRUE(registry.Put(FakeModel("m", 3)).empty());
  std::vector<ModelPtr> gone = registry.Put(FakeModel("m", 2));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0]->version, 1);
  EXPECT_EQ(VersionsOf(registry, "m"), (std::vector<int64_t>{3, 2}));
  const ModelPtr old = *registry.Find("m", 3);
  const ModelPtr reloaded = FakeModel("m", 3, /*load_id=*/99);
  gone = registry.Put(reloaded);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], old);
  EXPECT_EQ(*registry.Find("m"), reloaded);
  gone = registry.Put(FakeModel("m", 1));  // Below the two kept: in and straight out.
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0]->version, 1);
  EXPECT_EQ(VersionsOf(registry, "m"), (std::vector<int64_t>{3, 2}));
}

TEST(CacheKeyTest, KeysNameTheExactLoadAndErasingOneLoadKeepsTheOthers) {
  const ModelPtr v1 = FakeModel("m", 1, 10);
  const ModelPtr v1_reloaded = FakeModel("m", 1, 11);
  const ModelPtr v2 = FakeModel("m", 2, 12);
  auto key = [](const ModelPtr& model) {
    ClassifyJob job;
    job.model = model;
    job.noise.seed = 5;
    job.noise.count = 3;
    return BatchKey(job);
  };
  EXPECT_NE(key(v1), key(v1_reloaded));
  EXPECT_NE(key(v1), key(v2));
  EXPECT_EQ(key(v1).rfind(ModelKey(*v1), 0), 0u);

  WeightCache cache(1 << 20);
  auto weights = std::make_shared<const core::WeightBatch>(core::WeightBatch{torch::ones({4})});
  for (const ModelPtr& model : {v1, v1_reloaded, v2}) cache.Put(key(model), weights);
  EXPECT_EQ(cache.entries(), 3);
  cache.EraseByPrefix(ModelKey(*v1));
  EXPECT_EQ(cache.entries(), 2);
  EXPECT_EQ(cache.Get(key(v1)), nullptr);
  EXPECT_NE(cache.Get(key(v1_reloaded)), nullptr);
  EXPECT_NE(cache.Get(key(v2)), nullptr);
  EXPECT_EQ(cache.size_bytes(), 2 * 16);
}

using ModelVersionsTest = testing::ModelLifecycleTest;

TEST_F(ModelVersionsTest, LoadDirectoryKeepsTheNewestVersionsOfEachName) {
  for (int v = 1; v <= 3; ++v) testing::WriteTinyCheckpoint(VersionPath("multi", v), 10 + v);
  registry_options_.keep_versions = 2;
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), registry_options_);
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ(VersionsOf(**registry, "multi"), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(VersionsOf(**registry, "tiny"), (std::vector<int64_t>{1}));
  EXPECT_EQ((*(*registry)->Find("multi", 2))->content_hash, ContentHash(VersionPath("multi", 2)));
}

TEST_F(ModelVersionsTest, RequestsPinVersionsAndResponsesReportTheServedOne) {
  std::filesystem::remove(ModelPath("tiny"));
  testing::WriteTinyCheckpoint(VersionPath("tiny", 1), 21);
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 22);
  registry_options_.keep_versions = 2;
  Start();

  grpc::Status status;
  auto latest = Sample("tiny", 0, 3, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(latest.model().name(), "tiny");
  EXPECT_EQ(latest.model().version(), 2);
  EXPECT_EQ(latest.model().content_hash(), ContentHash(VersionPath("tiny", 2)));
  EXPECT_TRUE(SameWeights(latest, LocalWeights(VersionPath("tiny", 2), 3, 2)));

  auto pinned = Sample("tiny", 1, 3, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(pinned.model().version(), 1);
  EXPECT_TRUE(SameWeights(pinned, LocalWeights(VersionPath("tiny", 1), 3, 2)));
  EXPECT_FALSE(SameWeights(pinned, LocalWeights(VersionPath("tiny", 2), 3, 2)));

  Sample("tiny", 5, 3, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("'tiny' version 5"), std::string::npos);
  Sample("tiny", -1, 3, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("version:"), std::string::npos);

  hnet::v1::ListModelsResponse list;
  ASSERT_TRUE(stub_->ListModels(Context().get(), {}, &list).ok());
  ASSERT_EQ(list.models_size(), 2);
  EXPECT_EQ(list.models(0).version_number(), 2);
  EXPECT_TRUE(list.models(0).latest());
  EXPECT_EQ(list.models(1).version_number(), 1);
  EXPECT_FALSE(list.models(1).latest());
  // hnet_model_info names the version served by default from the start.
  const std::string metrics = server_->metrics().Render();
  EXPECT_NE(metrics.find("hnet_model_info{model=\"tiny\",version=\"2\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_EQ(list.models(1).path(), VersionPath("tiny", 1));

  hnet::v1::GetModelInfoRequest info_request;
  info_request.set_model("tiny");
  info_request.set_version(1);
  hnet::v1::ModelInfo info;
  ASSERT_TRUE(stub_->GetModelInfo(Context().get(), info_request, &info).ok());
  EXPECT_EQ(info.version_number(), 1);
  EXPECT_EQ(info.version(), ContentHash(VersionPath("tiny", 1)));
  EXPECT_FALSE(info.latest());

  // Classify, StreamWeights and InterpolatePath honour and report the version too.
  torch::manual_seed(4);
  hnet::v1::ClassifyRequest classify;
  classify.set_model("tiny");
  classify.set_version(1);
  *classify.mutable_inputs() = core::TensorToProto(torch::rand({3, 28, 28}));
  classify.set_ensemble_size(3);
  classify.mutable_noise()->set_seed(1);
  hnet::v1::ClassifyResponse classified;
  ASSERT_TRUE(stub_->Classify(Context().get(), classify, &classified).ok());
  EXPECT_EQ(classified.model().version(), 1);

  auto stream_context = Context();
  auto reader = stub_->StreamWeights(stream_context.get(), testing::SampleRequest("tiny", 1, 3, 2));
  hnet::v1::GeneratedNetwork network;
  int streamed = 0;
  while (reader->Read(&network)) {
    EXPECT_EQ(network.model().version(), 1);
    ++streamed;
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(streamed, 2);

  hnet::v1::InterpolatePathRequest path;
  path.set_model("tiny");
  path.set_version(1);
  path.mutable_start()->set_seed(1);
  path.mutable_end()->set_seed(2);
  path.set_points(2);
  path.set_mode(hnet::v1::InterpolatePathRequest::DIRECT);
  *path.mutable_inputs() = core::TensorToProto(torch::rand({2, 28, 28}));
  *path.mutable_labels() = core::TensorToProto(torch::tensor({1, 2}, torch::kInt64));
  hnet::v1::InterpolatePathResponse path_response;
  ASSERT_TRUE(stub_->InterpolatePath(Context().get(), path, &path_response).ok());
  EXPECT_EQ(path_response.model().version(), 1);
}

TEST_F(ModelVersionsTest, OnlyTheLatestStaysLoadedByDefaultAndOldPinsAreNotFound) {
  std::filesystem::remove(ModelPath("tiny"));
  testing::WriteTinyCheckpoint(VersionPath("tiny", 1), 21);
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 22);
  Start();  // keep_versions 1.
  grpc::Status status;
  EXPECT_EQ(Sample("tiny", 2, 3, &status).model().version(), 2);
  EXPECT_TRUE(status.ok());
  Sample("tiny", 1, 3, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("model 'tiny' version 1 is not loaded"), std::string::npos)
      << status.error_message();
}

}  // namespace
}  // namespace hnet::server
