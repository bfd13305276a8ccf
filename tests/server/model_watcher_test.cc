// The directory watcher: new, changed, deleted, corrupt and touched checkpoints, health, and
// the Classify weight cache across a reload. Rescans run on request (deterministic).
#include <gtest/gtest.h>
#include <sys/time.h>
#include <torch/torch.h>
#include <utime.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/evaluation.h"
#include "server/model_directory.h"
#include "tests/as_nobody.h"
#include "tests/server/model_lifecycle_util.h"

namespace hnet::server {
namespace {

using testing::ContentHash;
using testing::Context;
using testing::LocalWeights;
using testing::SameWeights;
using testing::Summary;

using ModelWatcherTest = testing::ModelLifecycleTest;

TEST_F(ModelWatcherTest, FirstRescanOnlyRecordsWhatIsAlreadyLoaded) {
  Start();
  const uint64_t load_id = (*server_->registry().Find("tiny"))->load_id;
  EXPECT_EQ(Summary(Rescan()), "");
  EXPECT_EQ(Summary(Rescan()), "");
  EXPECT_EQ((*server_->registry().Find("tiny"))->load_id, load_id);
}

TEST_F(ModelWatcherTest, NewVersionIsLoadedAndSupersedesTheOldOne) {
  Start();
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 7);  // tiny.hnet is version 1.
  EXPECT_EQ(Summary(Rescan()), "UNLOADED tiny 1, LOADED tiny 2");
  grpc::Status status;
  auto response = Sample("tiny", 0, 5, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model().version(), 2);
  EXPECT_TRUE(SameWeights(response, LocalWeights(VersionPath("tiny", 2), 5, 2)));
  testing::WriteTinyCheckpoint(ModelPath("fresh"), 8);  // A new name.
  EXPECT_EQ(Summary(Rescan()), "LOADED fresh 1");
  EXPECT_EQ(Summary(Rescan()), "");
}

TEST_F(ModelWatcherTest, ChangedFileIsReloadedAndServesTheNewWeights) {
  Start();
  const std::string old_hash = ContentHash(ModelPath("tiny"));
  testing::WriteTinyCheckpoint(ModelPath("tiny"), 9);  // Temp file + rename.
  ASSERT_NE(ContentHash(ModelPath("tiny")), old_hash);
  const hnet::v1::ModelChanges changes = Rescan();
  EXPECT_EQ(Summary(changes), "RELOADED tiny 1");
  EXPECT_EQ(changes.changes(0).content_hash(), ContentHash(ModelPath("tiny")));
  grpc::Status status;
  auto response = Sample("tiny", 0, 5, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(response.model().content_hash(), ContentHash(ModelPath("tiny")));
  EXPECT_TRUE(SameWeights(response, LocalWeights(ModelPath("tiny"), 5, 2)));
}

TEST_F(ModelWatcherTest, TouchedFileWithTheSameContentIsNotReloaded) {
  Start();
  Rescan();
  const uint64_t load_id = (*server_->registry().Find("tiny"))->load_id;
  ASSERT_EQ(::utime(ModelPath("tiny").c_str(), nullptr), 0);  // New mtime and ctime.
  EXPECT_EQ(Summary(Rescan()), "");
  EXPECT_EQ((*server_->registry().Find("tiny"))->load_id, load_id);
}

TEST_F(ModelWatcherTest, CorruptFileKeepsTheOldVersionServingAndIsRetriedUntilFixed) {
  Start();
  const std::string old_hash = ContentHash(ModelPath("tiny"));
  const std::string good = (dir_ / "good.bin").string();
  testing::WriteTinyCheckpoint(good, 9);
  const auto overwrite = std::filesystem::copy_options::overwrite_existing;
  std::filesystem::copy_file(good, ModelPath("tiny"), overwrite);  // In place.
  testing::CorruptCheckpoint(ModelPath("tiny"));
  for (int rescan = 0; rescan < 2; ++rescan) {  // Retried, and refused, on every rescan.
    const hnet::v1::ModelChanges changes = Rescan();
    EXPECT_EQ(Summary(changes), "FAILED tiny 1");
    EXPECT_NE(changes.changes(0).message().find("checksum"), std::string::npos)
        << changes.changes(0).message();
    grpc::Status status;
    auto response = Sample("tiny", 0, 5, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model().content_hash(), old_hash);
  }
  EXPECT_EQ(testing::HealthStatus(channel_.get(), ""), 1);
  std::filesystem::resize_file(ModelPath("tiny"), 1000);  // Cut short: refused the same way.
  EXPECT_EQ(Summary(Rescan()), "FAILED tiny 1");
  std::filesystem::copy_file(good, ModelPath("tiny"), overwrite);
  EXPECT_EQ(Summary(Rescan()), "RELOADED tiny 1");
  grpc::Status status;
  auto response = Sample("tiny", 0, 5, &status);
  EXPECT_EQ(response.model().content_hash(), ContentHash(good));
  EXPECT_TRUE(SameWeights(response, LocalWeights(good, 5, 2)));
}

TEST_F(ModelWatcherTest, CorruptNewerVersionLeavesTheOlderOneServing) {
  Start();
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 7);
  testing::CorruptCheckpoint(VersionPath("tiny", 2));
  EXPECT_EQ(Summary(Rescan()), "FAILED tiny 2");
  grpc::Status status;
  EXPECT_EQ(Sample("tiny", 0, 5, &status).model().version(), 1);
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 7);
  EXPECT_EQ(Summary(Rescan()), "UNLOADED tiny 1, LOADED tiny 2");
}

TEST_F(ModelWatcherTest, AHugeSparseFileIsRefusedAndTheRestOfTheDirectoryStillLoads) {
  Start();
  {  // 1 TiB of nothing (as `truncate -s 1T`): no machine could hold it in memory.
    std::ofstream(ModelPath("big")) << "not a checkpoint";
    std::filesystem::resize_file(ModelPath("big"), uint64_t{1} << 40);
  }
  testing::WriteTinyCheckpoint(ModelPath("fresh"), 8);
  const hnet::v1::ModelChanges changes = Rescan();
  EXPECT_EQ(Summary(changes), "FAILED big 1, LOADED fresh 1");
  ASSERT_GE(changes.changes_size(), 1);
  EXPECT_NE(changes.changes(0).message().find("bad magic"), std::string::npos)
      << changes.changes(0).message();
  grpc::Status status;
  EXPECT_EQ(Sample("fresh", 0, 5, &status).model().version(), 1);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(ModelWatcherTest, DeletedFileUnloadsAndTheNextVersionOnDiskTakesOver) {
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 7);
  Start();  // Serves version 2 only (keep_versions 1).
  std::filesystem::remove(VersionPath("tiny", 2));
  EXPECT_EQ(Summary(Rescan()), "UNLOADED tiny 2, LOADED tiny 1");
  grpc::Status status;
  auto response = Sample("tiny", 0, 5, &status);
  EXPECT_EQ(response.model().version(), 1);
  EXPECT_TRUE(SameWeights(response, LocalWeights(ModelPath("tiny"), 5, 2)));

  // Nothing left: NOT_SERVING and NOT_FOUND; a checkpoint again: SERVING.
  std::filesystem::remove(ModelPath("tiny"));
  EXPECT_EQ(Summary(Rescan()), "UNLOADED tiny 1");
  EXPECT_EQ(testing::HealthStatus(channel_.get(), ""), 2);
  Sample("tiny", 0, 5, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  testing::WriteTinyCheckpoint(ModelPath("tiny"), 3);
  EXPECT_EQ(Summary(Rescan()), "LOADED tiny 1");
  EXPECT_EQ(testing::HealthStatus(channel_.get(), ""), 1);
  EXPECT_EQ(testing::HealthStatus(channel_.get(), "hnet.v1.HyperNet"), 1);
}

// While an older version takes the place of the newest (its file deleted, or unloaded through
// ModelAdmin), the name resolves at every moment: the old version leaves in the same registry
// step that publishes the new one, not before the new one is read and warmed up.
TEST_F(ModelWatcherTest, TheNameKeepsResolvingWhileAnOlderVersionTakesOver) {
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 7);
  testing::WriteTinyCheckpoint(VersionPath("tiny", 3), 8);
  auto loaded = ModelRegistry::LoadDirectory(dir_.string(), RegistryOptions{});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::shared_ptr<ModelRegistry> registry = std::move(*loaded);
  ASSERT_EQ((*registry->Find("tiny"))->version, 3);
  std::vector<std::string> seen;  // At each unload: the version a request would get.
  ModelEvents events;
  events.on_unloaded = [&](const LoadedModel& gone) {
    auto found = registry->Find("tiny");
    seen.push_back(absl::StrCat(
        gone.version, " -> ",
        found.ok() ? absl::StrCat((*found)->version) : std::string(found.status().message())));
  };
  ModelWatcher watcher(registry, WatcherOptions{dir_.string(), 0}, events);
  watcher.Start();
  std::filesystem::remove(VersionPath("tiny", 3));
  auto rescan = watcher.Rescan().get();
  ASSERT_TRUE(rescan.ok()) << rescan.status();
  EXPECT_EQ(Summary(*rescan), "UNLOADED tiny 3, LOADED tiny 2");
  auto unload = watcher.Unload("tiny", 2).get();
  ASSERT_TRUE(unload.ok()) << unload.status();
  EXPECT_EQ(Summary(*unload), "UNLOADED tiny 2, LOADED tiny 1");
  EXPECT_EQ(seen, (std::vector<std::string>{"3 -> 2", "2 -> 1"}));
  // With nothing to take its place, the last version still goes.
  unload = watcher.Unload("tiny", 1).get();
  ASSERT_TRUE(unload.ok()) << unload.status();
  EXPECT_EQ(Summary(*unload), "UNLOADED tiny 1");
  EXPECT_FALSE(registry->Find("tiny").ok());
  watcher.Stop();
}

// Bytes this process has read through read() and friends (/proc/self/io rchar).
int64_t BytesReadByThisProcess() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = -1;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

TEST_F(ModelWatcherTest, AFileDatedInTheFutureIsNotReadAgainOnEveryRescan) {
  if (BytesReadByThisProcess() < 0) GTEST_SKIP() << "no /proc/self/io";
  const std::string path = VersionPath("tiny", 2);
  testing::WriteTinyCheckpoint(path, 7);
  const timeval in_an_hour[2] = {{::time(nullptr) + 3600, 0}, {::time(nullptr) + 3600, 0}};
  ASSERT_EQ(::utimes(path.c_str(), in_an_hour), 0);
  auto loaded = ModelRegistry::LoadDirectory(dir_.string(), RegistryOptions{});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::shared_ptr<ModelRegistry> registry = std::move(*loaded);
  ModelWatcher watcher(registry, WatcherOptions{dir_.string(), 0}, ModelEvents{});
  watcher.Start();
  ASSERT_TRUE(watcher.Rescan().get().ok());                      // Records the file (read once).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // Its ctime is now old.
  ASSERT_TRUE(watcher.Rescan().get().ok());  // Reads it once more: it was recent when read.
  const int64_t before = BytesReadByThisProcess();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(watcher.Rescan().get().ok());
  const int64_t read = BytesReadByThisProcess() - before;
  EXPECT_LT(read, static_cast<int64_t>(std::filesystem::file_size(path)))
      << "the unchanged file was read again";
  EXPECT_EQ((*registry->Find("tiny"))->version, 2);
  watcher.Stop();
}

TEST_F(ModelWatcherTest, AResolvedVersionStaysUsableAfterItIsUnloaded) {
  Start();
  auto model = server_->registry().Find("tiny");
  ASSERT_TRUE(model.ok());
  std::filesystem::remove(ModelPath("tiny"));
  EXPECT_EQ(Summary(Rescan()), "UNLOADED tiny 1");
  // What a request in flight holds is still whole.
  torch::NoGradGuard no_grad;
  core::WeightBatch weights = (*model)->network->forward(torch::zeros({1, 8}));
  EXPECT_EQ(weights.size(), 4u);
}

TEST_F(ModelWatcherTest, ReloadedModelNeverServesTheOldLoadsCachedWeights) {
  Start();
  torch::manual_seed(3);
  const at::Tensor images = torch::rand({6, 1, 28, 28});
  auto classify = [&] {
    hnet::v1::ClassifyRequest request;
    request.set_model("tiny");
    *request.mutable_inputs() = core::TensorToProto(images);
    request.set_ensemble_size(5);
    request.mutable_noise()->set_seed(11);
    hnet::v1::ClassifyResponse response;
    EXPECT_TRUE(stub_->Classify(Context().get(), request, &response).ok());
    return response;
  };
  auto expected = [&](const std::string& path) {  // Mean member probabilities [N, C].
    core::HyperNetwork local = testing::LoadLocal(path);
    torch::NoGradGuard no_grad;
    core::WeightBatch w = local->forward(local->SampleZ(5, core::MakeGenerator(11)));
    return core::PredictProbabilities(local->layout(), w, images).mean(0);
  };
  auto probabilities = [](const hnet::v1::ClassifyResponse& response) {
    std::vector<float> flat;
    for (const auto& p : response.predictions()) {
      flat.insert(flat.end(), p.probabilities().begin(), p.probabilities().end());
    }
    return torch::tensor(flat).reshape({response.predictions_size(), -1});
  };
  const auto before = classify();  // Its ensemble weights are now cached.
  EXPECT_TRUE(torch::allclose(probabilities(before), expected(ModelPath("tiny")), 1e-4, 1e-5));
  EXPECT_GT(server_->cache().entries(), 0);
  testing::WriteTinyCheckpoint(ModelPath("tiny"), 9);
  EXPECT_EQ(Summary(Rescan()), "RELOADED tiny 1");
  EXPECT_EQ(server_->cache().entries(), 0);  // The old load's weights were dropped.
  const auto after = classify();
  EXPECT_EQ(after.model().content_hash(), ContentHash(ModelPath("tiny")));
  EXPECT_TRUE(torch::allclose(probabilities(after), expected(ModelPath("tiny")), 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(probabilities(after), probabilities(before), 1e-4, 1e-5));
}

TEST_F(ModelWatcherTest, RequestStopEndsARescanBeforeItsNextFile) {
  testing::WriteTinyCheckpoint(ModelPath("a"), 2);
  testing::WriteTinyCheckpoint(ModelPath("b"), 3);
  auto registry = std::make_shared<ModelRegistry>(std::vector<ModelPtr>{}, registry_options_);
  ModelWatcher* self = nullptr;
  ModelEvents events;
  events.on_loaded = [&](const LoadedModel&, double) { self->RequestStop(); };
  ModelWatcher watcher(registry, WatcherOptions{dir_.string(), 0}, events);
  self = &watcher;
  std::future<ModelWatcher::Result> rescan = watcher.Rescan();
  watcher.Start();
  const ModelWatcher::Result changes = rescan.get();
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(Summary(*changes), "LOADED a 1");  // b and tiny were never read.
  EXPECT_EQ(registry->size(), 1u);
  EXPECT_EQ(watcher.Rescan().get().status().code(), absl::StatusCode::kUnavailable);
  watcher.Stop();
}

// Root lists any folder, so the scan runs as "nobody" over a version folder only root may
// read: the name is reported unreadable (a rescan then keeps its versions), not dropped.
TEST_F(ModelWatcherTest, AVersionFolderThatCannotBeListedIsReportedNotDropped) {
  testing::WriteTinyCheckpoint(VersionPath("locked", 1), 31);
  std::filesystem::permissions(dir_ / "locked", std::filesystem::perms::owner_all);
  std::filesystem::permissions(dir_, std::filesystem::perms::all);
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the scan as nobody";
  const hnet::testing::AsNobody result = hnet::testing::RunAsNobody([&] {
    auto scan = ScanModelDirectory(dir_.string());
    if (!scan.ok() || scan->unreadable != std::set<std::string>{"locked"}) return false;
    bool tiny = false;
    for (const CheckpointFile& file : scan->files) {
      if (file.name == "locked") return false;
      tiny = tiny || file.name == "tiny";
    }
    return tiny;
  });
  if (result == hnet::testing::AsNobody::kUnavailable) GTEST_SKIP() << "cannot become nobody";
  EXPECT_EQ(result, hnet::testing::AsNobody::kPassed);
  auto as_root = ScanModelDirectory(dir_.string());  // Root lists it: nothing unreadable.
  ASSERT_TRUE(as_root.ok()) << as_root.status();
  EXPECT_TRUE(as_root->unreadable.empty());
}

}  // namespace
}  // namespace hnet::server
