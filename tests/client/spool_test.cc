// The on-disk spool of streamed networks behind `hnet sample` (client/cli/spool.h).
#include "client/cli/spool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "client/zip_writer.h"
#include "tests/client/python_util.h"

namespace hnet::cli {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = client::testing::UniqueTempPath("spool");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Network `index`: layers "a" [2, 3] and "b" [1, 3] float32, z [1], values from `index`.
  static client::GeneratedNetwork Network(int index) {
    client::GeneratedNetwork network;
    network.index = index;
    network.model.name = "m";
    network.model.version = 4;
    const float base = static_cast<float>(index) * 10;
    network.layers.push_back(
        {"a",
         *client::MakeFloat32(
             std::vector<float>{base, base + 1, base + 2, base + 3, base + 4, base + 5}, {2, 3})});
    network.layers.push_back(
        {"b", *client::MakeFloat32(std::vector<float>{-base, -base - 1, -base - 2}, {1, 3})});
    network.z = *client::MakeFloat32(std::vector<float>{base / 2});
    return network;
  }

  // The bytes a source passes.
  static std::string Drain(const client::TensorSource& source) {
    std::string bytes;
    EXPECT_TRUE(source
                    .produce([&bytes](absl::string_view piece) {
                      bytes.append(piece.data(), piece.size());
                      return absl::OkStatus();
                    })
                    .ok());
    return bytes;
  }

  std::string dir_;
};

TEST_F(SpoolTest, StacksNetworksAsSampleWeightsWouldAndLeavesNoFile) {
  NetworkSpool spool(dir_, 3, /*with_z=*/true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool.Add(Network(i)).ok());
  EXPECT_EQ(spool.count(), 3);
  EXPECT_EQ(spool.model().version, 4);
  absl::StatusOr<client::NamedTensorSources> sources = spool.Sources();
  ASSERT_TRUE(sources.ok()) << sources.status();
  ASSERT_EQ(sources->size(), 3u);
  EXPECT_EQ((*sources)[0].first, "a");
  EXPECT_EQ((*sources)[0].second.shape, (std::vector<int64_t>{3, 2, 3}));
  EXPECT_EQ((*sources)[2].first, "z");
  EXPECT_EQ((*sources)[2].second.shape, (std::vector<int64_t>{3, 1}));
  std::string expected;
  for (int i = 0; i < 3; ++i) expected += Network(i).layers[1].weights.bytes;
  const std::string b = Drain((*sources)[1].second);
  EXPECT_EQ(b, expected);
  EXPECT_EQ((*sources)[1].second.crc32, client::Crc32(expected));
  EXPECT_EQ(Drain((*sources)[1].second), b);     // read back as often as asked
  EXPECT_TRUE(std::filesystem::is_empty(dir_));  // unnamed files only
}

TEST_F(SpoolTest, RefusesNetworksUnlikeTheFirstOrTooManyOrTooFew) {
  NetworkSpool spool(dir_, 2, /*with_z=*/true);
  ASSERT_TRUE(spool.Add(Network(0)).ok());
  client::GeneratedNetwork wider = Network(1);
  wider.layers[1].weights = *client::MakeFloat32(std::vector<float>(4), {1, 4});
  absl::Status s = spool.Add(wider);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("b is float32 [1, 4], network 0's float32 [1, 3]"), std::string::npos)
      << s;
  client::GeneratedNetwork renamed = Network(1);
  renamed.layers[0].name = "c";
  EXPECT_EQ(spool.Add(renamed).code(), absl::StatusCode::kInternal);
  client::GeneratedNetwork no_z = Network(1);
  no_z.z = client::Tensor();
  EXPECT_EQ(spool.Add(no_z).code(), absl::StatusCode::kInternal);
  s = spool.Sources().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("the stream ended after 1 of 2 networks"), std::string::npos) << s;
  ASSERT_TRUE(spool.Add(Network(1)).ok());
  EXPECT_TRUE(spool.Sources().ok());
  s = spool.Add(Network(2));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
}

TEST_F(SpoolTest, MemoryStaysAtTheWriteBuffersWhateverTheNetworks) {
  constexpr int kNetworks = 300;
  NetworkSpool spool(dir_, kNetworks, /*with_z=*/false);
  std::mt19937 rng(7);
  uint32_t crc = 0;
  uint64_t bytes = 0;
  for (int i = 0; i < kNetworks; ++i) {
    client::GeneratedNetwork network;
    std::vector<float> values(64 << 10);  // 256 KiB a network
    for (float& v : values) v = static_cast<float>(rng() % 1000);
    network.layers.push_back({"w", *client::MakeFloat32(values, {256, 256})});
    crc = client::Crc32Extend(crc, network.layers[0].weights.bytes);
    bytes += network.layers[0].weights.bytes.size();
    ASSERT_TRUE(spool.Add(network).ok());
    ASSERT_LE(spool.buffered_bytes(), SpoolFile::kBufferBytes);
  }
  absl::StatusOr<client::NamedTensorSources> sources = spool.Sources();
  ASSERT_TRUE(sources.ok()) << sources.status();
  EXPECT_EQ((*sources)[0].second.crc32, crc);
  uint64_t read = 0;
  size_t largest_piece = 0;
  uint32_t read_crc = 0;
  ASSERT_TRUE((*sources)[0]
                  .second
                  .produce([&](absl::string_view piece) {
                    read += piece.size();
                    largest_piece = std::max(largest_piece, piece.size());
                    read_crc = client::Crc32Extend(read_crc, piece);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(read, bytes);  // 75 MiB through pieces of at most 1 MiB
  EXPECT_LE(largest_piece, SpoolFile::kBufferBytes);
  EXPECT_EQ(read_crc, crc);
}

TEST_F(SpoolTest, AMissingDirectoryIsNamed) {
  NetworkSpool spool(dir_ + "/absent", 1, /*with_z=*/false);
  const absl::Status s = spool.Add(Network(0));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find(dir_ + "/absent"), std::string::npos) << s;
}

}  // namespace
}  // namespace hnet::cli
