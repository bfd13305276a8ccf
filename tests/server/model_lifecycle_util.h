// Shared by the model lifecycle tests: a server over a watched temp directory whose rescans
// run only on request (deterministic), its ModelAdmin stub, and helpers to compare served
// weights with those computed locally from a checkpoint.
#ifndef HNET_TESTS_SERVER_MODEL_LIFECYCLE_UTIL_H_
#define HNET_TESTS_SERVER_MODEL_LIFECYCLE_UTIL_H_

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/rng.h"
#include "hnet/v1/admin.grpc.pb.h"
#include "tests/server/server_test_util.h"

namespace hnet::server::testing {

// "LOADED tiny 2, UNLOADED tiny 1": the kind, name and version of each change, in order.
inline std::string Summary(const hnet::v1::ModelChanges& changes) {
  std::vector<std::string> parts;
  for (const hnet::v1::ModelChange& c : changes.changes()) {
    parts.push_back(
        absl::StrCat(hnet::v1::ModelChange::Kind_Name(c.kind()), " ", c.name(), " ", c.version()));
  }
  return absl::StrJoin(parts, ", ");
}

// The content hash the server reports for checkpoint `path` (hex payload CRC-32).
inline std::string ContentHash(const std::string& path) {
  uint32_t crc = 0;
  EXPECT_TRUE(core::ReadCheckpoint(path, &crc).ok()) << path;
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", crc);
  return hex;
}

// Weights [n, F_l, S_l] per layer of checkpoint `path` for noise seed `seed`, with core only.
inline core::WeightBatch LocalWeights(const std::string& path, uint64_t seed, int64_t n) {
  core::HyperNetwork local = LoadLocal(path);
  torch::NoGradGuard no_grad;
  return local->forward(local->SampleZ(n, core::MakeGenerator(seed)));
}

// True when `response` holds `expected` within float tolerance: the server's matrix products
// may block or thread differently, so each element may differ by a few float32 ulps of the
// layer's largest weight (a different checkpoint's weights differ far more).
inline bool SameWeights(const hnet::v1::SampleWeightsResponse& response,
                        const core::WeightBatch& expected) {
  if (response.layers_size() != static_cast<int>(expected.size())) return false;
  for (size_t l = 0; l < expected.size(); ++l) {
    at::Tensor got = FromProto(response.layers(static_cast<int>(l)).weights());
    if (!got.sizes().equals(expected[l].sizes())) return false;
    const double scale = expected[l].abs().max().item<double>();
    if (!torch::allclose(got, expected[l], /*rtol=*/1e-5, /*atol=*/1e-6 * (1 + scale))) {
      return false;
    }
  }
  return true;
}

inline hnet::v1::SampleWeightsRequest SampleRequest(const std::string& model, int64_t version,
                                                    uint64_t seed, int n) {
  hnet::v1::SampleWeightsRequest request;
  request.set_model(model);
  request.set_version(version);
  request.set_n(n);
  request.mutable_noise()->set_seed(seed);
  return request;
}

class ModelLifecycleTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    options_.lifecycle.models_dir = dir_.string();
    options_.lifecycle.watch_interval_s = 0;  // Rescans only when the test asks.
    options_.lifecycle.admin_service = true;
  }

  void Start() {
    StartServer();
    admin_ = hnet::v1::ModelAdmin::NewStub(channel_);
  }

  // <dir>/<name>/<version>.hnet
  std::string VersionPath(const std::string& name, int64_t version) const {
    return (dir_ / name / absl::StrCat(version, ".hnet")).string();
  }

  // A rescan now, as SIGHUP or ReloadModels would do it; what it changed.
  hnet::v1::ModelChanges Rescan() {
    auto changes = server_->watcher().Rescan().get();
    EXPECT_TRUE(changes.ok()) << changes.status();
    return changes.ok() ? *changes : hnet::v1::ModelChanges();
  }

  // SampleWeights of `model` (version 0: the latest) for seed `seed`; the status goes to
  // *status.
  hnet::v1::SampleWeightsResponse Sample(const std::string& model, int64_t version, uint64_t seed,
                                         grpc::Status* status, int n = 2) {
    hnet::v1::SampleWeightsResponse response;
    *status =
        stub_->SampleWeights(Context().get(), SampleRequest(model, version, seed, n), &response);
    return response;
  }

  std::unique_ptr<hnet::v1::ModelAdmin::Stub> admin_;
};

}  // namespace hnet::server::testing

#endif  // HNET_TESTS_SERVER_MODEL_LIFECYCLE_UTIL_H_
