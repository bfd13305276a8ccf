#include "core/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/hypernetwork.h"
#include "tests/as_nobody.h"
#include "tests/core/test_util.h"

namespace hnet::core {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hnet_ckpt_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  hnet::v1::Checkpoint MakeCheckpoint(HyperNetwork& model) {
    hnet::v1::Checkpoint ckpt;
    ckpt.set_format_version(kCheckpointFormatVersion);
    *ckpt.mutable_config() = testing::MnistConfig();
    ckpt.set_step(42);
    ckpt.set_lambda(1000);
    SaveModule(*model, &ckpt);
    return ckpt;
  }

  std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }

  std::filesystem::path dir_;
};

TEST_F(CheckpointTest, RoundTripIsExact) {
  torch::manual_seed(31);
  const auto config = testing::MnistConfig();
  HyperNetwork model(testing::MnistLayout(), config.hypernet());
  model->forward(torch::rand({4, 300}));  // Move batch-norm statistics off their defaults.
  const std::string path = (dir_ / "m.hnet").string();
  ASSERT_TRUE(WriteCheckpoint(path, MakeCheckpoint(model)).ok());

  auto read = ReadCheckpoint(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->step(), 42);
  EXPECT_EQ(read->config().hypernet().z_dim(), 300);
  torch::manual_seed(99);
  HyperNetwork other(testing::MnistLayout(), config.hypernet());
  ASSERT_TRUE(LoadModule(*read, other.get()).ok());
  auto a = model->named_parameters(), b = other->named_parameters();
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()]));
  auto ab = model->named_buffers(), bb = other->named_buffers();
  for (const auto& item : ab) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()]));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {  // No temporary file.
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST_F(CheckpointTest, RefusesTruncatedCorruptedAndForeignFiles) {
  torch::manual_seed(32);
  HyperNetwork model(testing::MnistLayout(), testing::MnistConfig().hypernet());
  const std::string path = (dir_ / "m.hnet").string();
  ASSERT_TRUE(WriteCheckpoint(path, MakeCheckpoint(model)).ok());
  const std::string good = ReadBytes(path);

  WriteBytes(path, good.substr(0, good.size() / 2));
  EXPECT_EQ(ReadCheckpoint(path).status().code(), absl::StatusCode::kDataLoss);
  WriteBytes(path, good.substr(0, 10));
  EXPECT_EQ(ReadCheckpoint(path).status().code(), absl::StatusCode::kDataLoss);

  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;
  WriteBytes(path, flipped);
  auto corrupt = ReadCheckpoint(path);
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(corrupt.status().message().find("checksum"), std::string::npos);

  WriteBytes(path, "not a checkpoint at all, just some text");
  EXPECT_EQ(ReadCheckpoint(path).status().code(), absl::StatusCode::kDataLoss);

  EXPECT_EQ(ReadCheckpoint((dir_ / "missing.hnet").string()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CheckpointTest, RefusesFifosDevicesAndDirectoriesWithoutBlocking) {
  const std::string fifo = (dir_ / "pipe.hnet").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero"), dir_.string()}) {
    auto read = ReadCheckpoint(path);  // A FIFO without a writer would block a plain open.
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_NE(read.status().message().find(path + " is not a regular file"), std::string::npos)
        << read.status();
  }
}

TEST_F(CheckpointTest, UnreadableFileIsPermissionDeniedNamingIt) {
  torch::manual_seed(34);
  HyperNetwork model(testing::MnistLayout(), testing::MnistConfig().hypernet());
  const std::string path = (dir_ / "m.hnet").string();
  ASSERT_TRUE(WriteCheckpoint(path, MakeCheckpoint(model)).ok());
  std::filesystem::permissions(dir_, std::filesystem::perms::all);  // Traversable by anyone.
  std::filesystem::permissions(path, std::filesystem::perms::none);
  if (::geteuid() != 0) {
    auto read = ReadCheckpoint(path);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(read.status().message().find(path), std::string::npos) << read.status();
    return;
  }
  // Root reads any file: read it as "nobody".
  const hnet::testing::AsNobody result = hnet::testing::RunAsNobody([&] {
    auto read = ReadCheckpoint(path);
    return read.status().code() == absl::StatusCode::kPermissionDenied &&
           read.status().message().find(path) != absl::string_view::npos;
  });
  if (result == hnet::testing::AsNobody::kUnavailable) GTEST_SKIP() << "cannot become nobody";
  EXPECT_EQ(result, hnet::testing::AsNobody::kPassed) << "not PERMISSION_DENIED naming the file";
}

TEST_F(CheckpointTest, RefusesOtherFormatVersions) {
  torch::manual_seed(33);
  HyperNetwork model(testing::MnistLayout(), testing::MnistConfig().hypernet());
  const std::string path = (dir_ / "m.hnet").string();
  ASSERT_TRUE(WriteCheckpoint(path, MakeCheckpoint(model)).ok());
  std::string bytes = ReadBytes(path);
  bytes[8] = 7;  // Format version field.
  WriteBytes(path, bytes);
  auto read = ReadCheckpoint(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(read.status().message().find("version 7"), std::string::npos);
}

TEST_F(CheckpointTest, LoadIntoDifferentModelChangesNothing) {
  torch::manual_seed(34);
  auto config = testing::MnistConfig();
  HyperNetwork model(testing::MnistLayout(), config.hypernet());
  hnet::v1::Checkpoint ckpt = MakeCheckpoint(model);
  config.mutable_hypernet()->mutable_generators(3)->set_hidden(0, 61);
  HyperNetwork other(testing::MnistLayout(), config.hypernet());
  const at::Tensor before = other->named_parameters()["extractor.linears.0.weight"].clone();
  absl::Status s = LoadModule(ckpt, other.get());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("generators.3"), std::string::npos) << s;
  EXPECT_TRUE(torch::equal(before, other->named_parameters()["extractor.linears.0.weight"]));
}

TEST_F(CheckpointTest, LoadModuleNamesBothDtypesOfAMismatch) {
  torch::manual_seed(36);
  HyperNetwork model(testing::MnistLayout(), testing::MnistConfig().hypernet());
  hnet::v1::Checkpoint ckpt = MakeCheckpoint(model);
  const std::string name = "extractor.linears.0.weight";
  bool replaced = false;
  for (auto& named : *ckpt.mutable_parameters()) {
    if (named.name() != name) continue;
    // Same shape, float64 instead of float32.
    *named.mutable_tensor() =
        TensorToProto(TensorFromProto(named.tensor()).value().to(torch::kFloat64));
    replaced = true;
  }
  ASSERT_TRUE(replaced);
  HyperNetwork other(testing::MnistLayout(), testing::MnistConfig().hypernet());
  absl::Status s = LoadModule(ckpt, other.get());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(name), std::string::npos) << s;
  EXPECT_NE(s.message().find("Double"), std::string::npos) << s;
  EXPECT_NE(s.message().find("Float"), std::string::npos) << s;
}

// The values of the named tensor in `tensors` with element 0 set to `value`.
void SetFirst(google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor>* tensors,
              const std::string& name, double value) {
  for (auto& named : *tensors) {
    if (named.name() != name) continue;
    at::Tensor t = TensorFromProto(named.tensor()).value();
    t.view(-1)[0] = value;
    *named.mutable_tensor() = TensorToProto(t);
    return;
  }
  ADD_FAILURE() << "no tensor " << name;
}

TEST_F(CheckpointTest, LoadModuleRefusesNonFiniteParametersAndBuffersNamingThem) {
  torch::manual_seed(35);
  const auto config = testing::MnistConfig();
  HyperNetwork model(testing::MnistLayout(), config.hypernet());
  const hnet::v1::Checkpoint good = MakeCheckpoint(model);
  ASSERT_GT(good.buffers_size(), 0);
  struct Case {
    bool buffer;
    double value;
  };
  for (const Case& c : {Case{false, std::nan("")}, Case{false, -INFINITY}, Case{true, INFINITY}}) {
    hnet::v1::Checkpoint ckpt = good;
    auto* tensors = c.buffer ? ckpt.mutable_buffers() : ckpt.mutable_parameters();
    std::string name;  // The first floating-point one (not num_batches_tracked).
    for (const auto& named : *tensors) {
      if (name.empty() && named.tensor().dtype() == hnet::v1::TensorProto::FLOAT32) {
        name = named.name();
      }
    }
    ASSERT_FALSE(name.empty());
    SetFirst(tensors, name, c.value);
    torch::manual_seed(36);
    HyperNetwork other(testing::MnistLayout(), config.hypernet());
    const at::Tensor before = other->named_parameters()["extractor.linears.0.weight"].clone();
    const absl::Status s = LoadModule(ckpt, other.get());
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << name << " = " << c.value;
    EXPECT_NE(s.message().find("'" + name + "'"), std::string::npos) << s;
    EXPECT_NE(s.message().find("non-finite"), std::string::npos) << s;
    EXPECT_TRUE(torch::equal(before, other->named_parameters()["extractor.linears.0.weight"]));
  }
}

TEST_F(CheckpointTest, LoadModuleRefusesARepeatedTensorName) {
  torch::manual_seed(37);
  const auto config = testing::MnistConfig();
  HyperNetwork model(testing::MnistLayout(), config.hypernet());
  const hnet::v1::Checkpoint good = MakeCheckpoint(model);
  const std::string name = good.parameters(0).name();

  hnet::v1::Checkpoint twice = good;  // A second copy with another shape, once dropped unseen.
  hnet::v1::NamedTensor* copy = twice.add_parameters();
  copy->set_name(name);
  *copy->mutable_tensor() = TensorToProto(torch::zeros({3}));
  hnet::v1::Checkpoint both = good;  // A parameter's name among the buffers.
  *both.add_buffers() = good.parameters(0);

  for (const hnet::v1::Checkpoint& ckpt : {twice, both}) {
    HyperNetwork other(testing::MnistLayout(), config.hypernet());
    const absl::Status s = LoadModule(ckpt, other.get());
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_NE(s.message().find("'" + name + "'"), std::string::npos) << s;
  }
}

TEST_F(CheckpointTest, ReadRefusesANegativeStep) {
  torch::manual_seed(38);
  HyperNetwork model(testing::MnistLayout(), testing::MnistConfig().hypernet());
  hnet::v1::Checkpoint ckpt = MakeCheckpoint(model);
  ckpt.set_step(-1000000);
  const std::string path = (dir_ / "m.hnet").string();
  ASSERT_TRUE(WriteCheckpoint(path, ckpt).ok());
  const absl::Status s = ReadCheckpoint(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(path), std::string::npos) << s;
  EXPECT_NE(s.message().find("step -1000000 is negative"), std::string::npos) << s;
}

TEST(ReadNamedTensors, RefusesNonFiniteFloatsNamingTheTensorAndAcceptsIntegers) {
  google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor> tensors;
  AppendNamedTensors(
      {{"step", torch::tensor(int64_t{5})}, {"w.m", torch::zeros({2, 2}, torch::kFloat64)}},
      &tensors);
  ASSERT_TRUE(ReadNamedTensors(tensors).ok());
  SetFirst(&tensors, "w.m", INFINITY);
  const absl::Status s = ReadNamedTensors(tensors).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("tensor 'w.m' holds non-finite values (0 NaN, 1 infinite)"),
            std::string::npos)
      << s;
}

TEST(TensorProto, RoundTripsDtypesAndRejectsBadSizes) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kUInt8}) {
    at::Tensor t = (torch::rand({3, 4}) * 100).to(dtype);
    auto back = TensorFromProto(TensorToProto(t));
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(torch::equal(*back, t));
  }
  hnet::v1::TensorProto proto = TensorToProto(torch::rand({2, 2}));
  proto.add_shape(3);
  EXPECT_EQ(TensorFromProto(proto).status().code(), absl::StatusCode::kDataLoss);
  // 2^62 x 4 float32 elements wrap to 0 bytes in 64 bits; with no data they must not pass.
  hnet::v1::TensorProto wraps = TensorToProto(torch::rand({1, 4}));
  wraps.set_shape(0, int64_t{1} << 62);
  wraps.clear_data();
  const absl::Status s = TensorFromProto(wraps).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("too large"), std::string::npos) << s;
}

}  // namespace
}  // namespace hnet::core
