// hnet.v1.ModelAdmin over RPC: LoadModel, UnloadModel, ReloadModels and their errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "tests/as_nobody.h"
#include "tests/server/model_lifecycle_util.h"

namespace hnet::server {
namespace {

using testing::ContentHash;
using testing::Context;
using testing::LocalWeights;
using testing::SameWeights;
using testing::Summary;

using ModelAdminTest = testing::ModelLifecycleTest;

// Under root: the process, every thread of it (the server's too: glibc applies set*id calls to
// all threads), takes the effective uid and gid of "nobody" until destroyed. For checks over
// RPC, where hnet::testing::RunAsNobody cannot be used: a forked child of a process that has
// run gRPC hangs in gRPC.
class EffectivelyNobody {
 public:
  EffectivelyNobody() { ok_ = ::setegid(65534) == 0 && ::seteuid(65534) == 0; }
  ~EffectivelyNobody() {
    if (::geteuid() != uid_) EXPECT_EQ(::seteuid(uid_), 0);
    if (::getegid() != gid_) EXPECT_EQ(::setegid(gid_), 0);
  }
  EffectivelyNobody(const EffectivelyNobody&) = delete;
  EffectivelyNobody& operator=(const EffectivelyNobody&) = delete;

  bool ok() const { return ok_; }

 private:
  const uid_t uid_ = ::geteuid();
  const gid_t gid_ = ::getegid();
  bool ok_ = false;
};

hnet::v1::LoadModelRequest Load(const std::string& path, const std::string& name, int64_t version) {
  hnet::v1::LoadModelRequest request;
  request.set_path(path);
  request.set_name(name);
  request.set_version(version);
  return request;
}

hnet::v1::UnloadModelRequest Unload(const std::string& name, int64_t version) {
  hnet::v1::UnloadModelRequest request;
  request.set_name(name);
  request.set_version(version);
  return request;
}

hnet::v1::UnloadModelRequest UnloadAll(const std::string& name) {
  hnet::v1::UnloadModelRequest request = Unload(name, 0);
  request.set_all_versions(true);
  return request;
}

TEST_F(ModelAdminTest, IsNotServedUnlessAskedFor) {
  EXPECT_FALSE(ServerOptions{}.lifecycle.admin_service);
  options_.lifecycle.admin_service = false;
  Start();
  hnet::v1::ModelChanges changes;
  EXPECT_EQ(admin_->ReloadModels(Context().get(), {}, &changes).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  hnet::v1::ListModelsResponse list;  // The data plane is there.
  EXPECT_TRUE(stub_->ListModels(Context().get(), {}, &list).ok());
}

TEST_F(ModelAdminTest, LoadModelServesAFileFromAnywhereAsTheNextVersion) {
  Start();
  const std::filesystem::path staging = dir_ / "staging";
  std::filesystem::create_directories(staging);
  const std::string path = (staging / "candidate.hnet").string();
  testing::WriteTinyCheckpoint(path, 31);
  hnet::v1::ModelChanges changes;
  grpc::Status status = admin_->LoadModel(Context().get(), Load(path, "tiny", 0), &changes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Summary(changes), "UNLOADED tiny 1, LOADED tiny 2");
  EXPECT_EQ(changes.changes(1).content_hash(), ContentHash(path));
  auto response = Sample("tiny", 0, 4, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(response.model().version(), 2);
  EXPECT_TRUE(SameWeights(response, LocalWeights(path, 4, 2)));
  // Rescans leave the admin's version alone; tiny.hnet (version 1) stays below it.
  EXPECT_EQ(Summary(Rescan()), "");
  // An empty name is the file stem.
  status = admin_->LoadModel(Context().get(), Load(path, "", 0), &changes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Summary(changes), "LOADED candidate 1");
}

TEST_F(ModelAdminTest, LoadModelErrorsFollowTheGrpcGuide) {
  registry_options_.keep_versions = 2;
  Start();
  const std::string corrupt = (dir_ / "corrupt.bin").string();
  std::ofstream(corrupt) << "not a checkpoint, just some text";
  const std::string fifo = (dir_ / "pipe.hnet").string();  // Would block a plain open.
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  struct Case {
    hnet::v1::LoadModelRequest request;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {Load("", "x", 0), grpc::StatusCode::INVALID_ARGUMENT, "path: required"},
      {Load(ModelPath("tiny"), "a b", 0), grpc::StatusCode::INVALID_ARGUMENT, "name: 'a b'"},
      {Load(ModelPath("tiny"), "x", -2), grpc::StatusCode::INVALID_ARGUMENT, "version: must"},
      {Load(dir_.string(), "x", 0), grpc::StatusCode::INVALID_ARGUMENT, "is a directory"},
      {Load(ModelPath("missing"), "x", 0), grpc::StatusCode::NOT_FOUND, "missing.hnet"},
      {Load(corrupt, "x", 0), grpc::StatusCode::DATA_LOSS, "path: checkpoint " + corrupt},
      {Load(fifo, "x", 0), grpc::StatusCode::INVALID_ARGUMENT,
       "path: " + fifo + " is not a regular"},
      {Load("/dev/zero", "x", 0), grpc::StatusCode::INVALID_ARGUMENT, "not a regular file"},
      {Load(ModelPath("tiny"), "tiny", 1), grpc::StatusCode::ALREADY_EXISTS,
       "'tiny' version 1 is already loaded"},
  };
  for (const Case& c : cases) {
    hnet::v1::ModelChanges changes;
    grpc::Status status = admin_->LoadModel(Context().get(), c.request, &changes);
    EXPECT_EQ(status.error_code(), c.code) << c.request.ShortDebugString();
    EXPECT_NE(status.error_message().find(c.message), std::string::npos) << status.error_message();
  }
  // keep_versions 2: with versions 5 and 4 loaded, version 3 would be unloaded at once.
  hnet::v1::ModelChanges changes;
  ASSERT_TRUE(
      admin_->LoadModel(Context().get(), Load(ModelPath("tiny"), "tiny", 5), &changes).ok());
  ASSERT_TRUE(
      admin_->LoadModel(Context().get(), Load(ModelPath("tiny"), "tiny", 4), &changes).ok());
  grpc::Status status =
      admin_->LoadModel(Context().get(), Load(ModelPath("tiny"), "tiny", 3), &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("--keep_versions"), std::string::npos)
      << status.error_message();
  // The failures changed nothing.
  hnet::v1::ListModelsResponse list;
  ASSERT_TRUE(stub_->ListModels(Context().get(), {}, &list).ok());
  ASSERT_EQ(list.models_size(), 2);
  EXPECT_EQ(list.models(0).version_number(), 5);
  EXPECT_EQ(list.models(1).version_number(), 4);
}

// Root reads any file, so under root the call runs with "nobody"'s effective ids.
TEST_F(ModelAdminTest, LoadModelOfAnUnreadableFileIsAFailedPrecondition) {
  Start();
  const std::string path = (dir_ / "locked.bin").string();
  testing::WriteTinyCheckpoint(path, 3);
  std::filesystem::permissions(path, std::filesystem::perms::none);
  std::optional<EffectivelyNobody> nobody;
  if (::geteuid() == 0) {
    nobody.emplace();
    if (!nobody->ok()) GTEST_SKIP() << "cannot take nobody's ids";
  }
  hnet::v1::ModelChanges changes;
  grpc::Status status = admin_->LoadModel(Context().get(), Load(path, "x", 0), &changes);
  nobody.reset();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message().rfind("path: ", 0), 0u) << status.error_message();
  EXPECT_NE(status.error_message().find(path), std::string::npos) << status.error_message();
}

TEST_F(ModelAdminTest, UnreadableOrUnsearchablePathsAreFailedPreconditionsAlsoUnderRoot) {
  // A file no one may read, and a file in a directory only root may search.
  const std::string locked = (dir_ / "locked.bin").string();
  testing::WriteTinyCheckpoint(locked, 3);
  std::filesystem::permissions(locked, std::filesystem::perms::none);
  std::filesystem::create_directories(dir_ / "private");
  const std::string hidden = (dir_ / "private" / "m.hnet").string();
  testing::WriteTinyCheckpoint(hidden, 4);
  std::filesystem::permissions(dir_ / "private", std::filesystem::perms::owner_all);
  std::filesystem::permissions(dir_, std::filesystem::perms::all);
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the watcher as nobody";
  // The watcher alone (no gRPC), run as "nobody".
  const hnet::testing::AsNobody result = hnet::testing::RunAsNobody([&] {
    auto registry = std::make_shared<ModelRegistry>(std::vector<ModelPtr>{}, RegistryOptions{});
    ModelWatcher watcher(registry, WatcherOptions{}, ModelEvents{});
    watcher.Start();
    int failures = 0;
    for (const std::string& path : {locked, hidden}) {
      const absl::Status status = watcher.Load(path, "x", 0).get().status();
      if (status.code() != absl::StatusCode::kFailedPrecondition ||
          status.message().rfind("path: ", 0) != 0 ||
          status.message().find(path) == absl::string_view::npos) {
        ++failures;
      }
    }
    watcher.Stop();
    return failures == 0;
  });
  if (result == hnet::testing::AsNobody::kUnavailable) GTEST_SKIP() << "cannot become nobody";
  EXPECT_EQ(result, hnet::testing::AsNobody::kPassed)
      << "a path was not FAILED_PRECONDITION \"path: ...\"";
}

TEST_F(ModelAdminTest, LoadModelVersionZeroCountsFilesNoRescanHasSeen) {
  Start();  // Rescans only on request: none has run.
  testing::WriteTinyCheckpoint(VersionPath("tiny", 5), 4);
  const std::string path = (dir_ / "candidate.bin").string();
  testing::WriteTinyCheckpoint(path, 5);
  hnet::v1::ModelChanges changes;
  grpc::Status status = admin_->LoadModel(Context().get(), Load(path, "tiny", 0), &changes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Summary(changes), "UNLOADED tiny 1, LOADED tiny 6");
}

TEST_F(ModelAdminTest, UnloadModelErrorsNameWhatIsWrong) {
  Start();
  hnet::v1::ModelChanges changes;
  grpc::Status status = admin_->UnloadModel(Context().get(), UnloadAll("nope"), &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("'nope'"), std::string::npos);
  status = admin_->UnloadModel(Context().get(), Unload("tiny", 7), &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("'tiny' version 7"), std::string::npos);
  status = admin_->UnloadModel(Context().get(), UnloadAll("../x"), &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("name:"), std::string::npos);
  status = admin_->UnloadModel(Context().get(), Unload("tiny", -1), &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("version:"), std::string::npos);
  // Version 0 (a request that forgot it) never means every version.
  status = admin_->UnloadModel(Context().get(), Unload("tiny", 0), &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("version: required"), std::string::npos)
      << status.error_message();
  hnet::v1::UnloadModelRequest both = UnloadAll("tiny");
  both.set_version(1);
  status = admin_->UnloadModel(Context().get(), both, &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("all_versions"), std::string::npos);
  // Nothing was unloaded.
  EXPECT_EQ(server_->registry().size(), 1u);
}

TEST_F(ModelAdminTest, UnloadedDirectoryModelStaysUnloadedUntilItsFileChanges) {
  Start();
  hnet::v1::ModelChanges changes;
  ASSERT_TRUE(admin_->UnloadModel(Context().get(), UnloadAll("tiny"), &changes).ok());
  EXPECT_EQ(Summary(changes), "UNLOADED tiny 1");
  EXPECT_EQ(testing::HealthStatus(channel_.get(), ""), 2);  // No model: NOT_SERVING.
  ASSERT_TRUE(admin_->ReloadModels(Context().get(), {}, &changes).ok());
  EXPECT_EQ(Summary(changes), "");
  grpc::Status status;
  Sample("tiny", 0, 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  testing::WriteTinyCheckpoint(ModelPath("tiny"), 12);
  ASSERT_TRUE(admin_->ReloadModels(Context().get(), {}, &changes).ok());
  EXPECT_EQ(Summary(changes), "LOADED tiny 1");
  EXPECT_EQ(testing::HealthStatus(channel_.get(), ""), 1);
}

TEST_F(ModelAdminTest, UnloadingTheLatestVersionFallsBackToTheOneBelowOnDisk) {
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 7);
  Start();
  hnet::v1::ModelChanges changes;
  ASSERT_TRUE(admin_->UnloadModel(Context().get(), Unload("tiny", 2), &changes).ok());
  EXPECT_EQ(Summary(changes), "UNLOADED tiny 2, LOADED tiny 1");
  grpc::Status status;
  EXPECT_EQ(Sample("tiny", 0, 1, &status).model().version(), 1);
}

TEST_F(ModelAdminTest, UnloadingAnAdminVersionLetsTheFileItShadowedServe) {
  Start();
  const std::string candidate = (dir_ / "candidate.bin").string();
  testing::WriteTinyCheckpoint(candidate, 21);
  hnet::v1::ModelChanges changes;
  ASSERT_TRUE(admin_->LoadModel(Context().get(), Load(candidate, "tiny", 2), &changes).ok());
  EXPECT_EQ(Summary(changes), "UNLOADED tiny 1, LOADED tiny 2");
  testing::WriteTinyCheckpoint(VersionPath("tiny", 2), 22);  // Shadowed by the admin version.
  EXPECT_EQ(Summary(Rescan()), "");
  // Unloading the admin's version 2 does not mark the directory's tiny/2.hnet unloaded.
  ASSERT_TRUE(admin_->UnloadModel(Context().get(), Unload("tiny", 2), &changes).ok());
  EXPECT_EQ(Summary(changes), "UNLOADED tiny 2, LOADED tiny 2");
  grpc::Status status;
  auto response = Sample("tiny", 0, 3, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model().version(), 2);
  EXPECT_TRUE(SameWeights(response, LocalWeights(VersionPath("tiny", 2), 3, 2)));
}

TEST_F(ModelAdminTest, ReloadModelsReportsWhatChanged) {
  Start();
  testing::WriteTinyCheckpoint(ModelPath("tiny"), 13);
  testing::WriteTinyCheckpoint(ModelPath("second"), 14);
  hnet::v1::ModelChanges changes;
  ASSERT_TRUE(admin_->ReloadModels(Context().get(), {}, &changes).ok());
  EXPECT_EQ(Summary(changes), "LOADED second 1, RELOADED tiny 1");
  EXPECT_EQ(changes.changes(1).path(), ModelPath("tiny"));
}

TEST_F(ModelAdminTest, ReloadModelsWithoutADirectoryIsAFailedPrecondition) {
  options_.lifecycle.models_dir.clear();
  Start();
  hnet::v1::ModelChanges changes;
  grpc::Status status = admin_->ReloadModels(Context().get(), {}, &changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("--models"), std::string::npos);
  // LoadModel and UnloadModel still work.
  ASSERT_TRUE(
      admin_->LoadModel(Context().get(), Load(ModelPath("tiny"), "copy", 0), &changes).ok());
  EXPECT_EQ(Summary(changes), "LOADED copy 1");
  ASSERT_TRUE(admin_->UnloadModel(Context().get(), Unload("copy", 1), &changes).ok());
  EXPECT_EQ(Summary(changes), "UNLOADED copy 1");
}

}  // namespace
}  // namespace hnet::server
