#include "client/npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "client/pt_writer.h"
#include "client/zip_writer.h"
#include "io/file_io.h"
#include "tests/client/python_util.h"

namespace hnet::client {
namespace {

TEST(NpyTest, HeaderIsNumPyFormat1) {
  const std::string npy = *EncodeNpy(*MakeFloat32(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<uint8_t>(npy[8]) | static_cast<uint8_t>(npy[9]) << 8;
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = npy.substr(10, header_len);
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(npy.size(), 10 + header_len + 24);
}

TEST(NpyTest, OneDimensionalShapeHasTrailingComma) {
  const std::string npy = *EncodeNpy(*MakeUint8(std::vector<uint8_t>{7}));
  EXPECT_NE(npy.find("'descr': '|u1'"), std::string::npos);
  EXPECT_NE(npy.find("'shape': (1,)"), std::string::npos);
}

TEST(NpyTest, RoundTripsEveryDtype) {
  std::vector<Tensor> tensors = {
      *MakeFloat32(std::vector<float>{1.5f, -2}, {2, 1}),
      *MakeTensor<double>(std::vector<double>{3.25}),
      *MakeTensor<int64_t>(std::vector<int64_t>{-1, int64_t{1} << 40}),
      *MakeTensor<int32_t>(std::vector<int32_t>{}, {0, 4}),
      *MakeUint8(std::vector<uint8_t>{0, 255, 3, 4, 5, 6, 7, 8}, {2, 2, 2}),
      Tensor{DType::kFloat32, {}, std::string(4, '\0')},  // scalar
  };
  for (const Tensor& t : tensors) {
    absl::StatusOr<Tensor> back = DecodeNpy(*EncodeNpy(t));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype, t.dtype);
    EXPECT_EQ(back->shape, t.shape);
    EXPECT_EQ(back->bytes, t.bytes);
  }
}

TEST(NpyTest, DecodeRejectsGarbage) {
  EXPECT_EQ(DecodeNpy("nope").status().code(), absl::StatusCode::kInvalidArgument);
  std::string npy = *EncodeNpy(*MakeFloat32(std::vector<float>{1, 2}));
  EXPECT_EQ(DecodeNpy(npy.substr(0, npy.size() - 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  npy.replace(npy.find("<f4"), 3, "<c8");
  EXPECT_NE(DecodeNpy(npy).status().message().find("<c8"), std::string::npos);
}

// A source passing `tensor`'s bytes in pieces of `piece` bytes; the CRC given when `with_crc`.
TensorSource Pieces(const Tensor& tensor, size_t piece, bool with_crc) {
  TensorSource source;
  source.dtype = tensor.dtype;
  source.shape = tensor.shape;
  if (with_crc) source.crc32 = Crc32(tensor.bytes);
  source.produce = [&tensor, piece](io::ByteSink sink) {
    for (size_t at = 0; at < tensor.bytes.size(); at += piece) {
      if (absl::Status s = sink(absl::string_view(tensor.bytes).substr(at, piece)); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  };
  return source;
}

TEST(NpyTest, SourcesWriteTheSameFilesAsTensors) {
  const NamedTensors tensors = {
      {"layer0", *MakeFloat32(std::vector<float>{1, 2, 3, 4, 5, 6}, {1, 2, 3})},
      {"empty", *MakeTensor<int32_t>(std::vector<int32_t>{}, {0, 4})},
      {"z", *MakeTensor<double>(std::vector<double>{0.5, -1}, {2, 1})}};
  const std::string dir = testing::UniqueTempPath("sources");
  ASSERT_TRUE(WriteNpz(dir + ".tensors.npz", tensors).ok());
  ASSERT_TRUE(WriteTorchSave(dir + ".tensors.pt", tensors).ok());
  ASSERT_TRUE(WriteNpy(dir + ".tensor.npy", tensors[0].second).ok());
  for (bool with_crc : {false, true}) {
    NamedTensorSources sources;
    for (const auto& [name, tensor] : tensors) {
      sources.emplace_back(name, Pieces(tensor, 5, with_crc));
    }
    ASSERT_TRUE(WriteNpz(dir + ".sources.npz", sources).ok());
    ASSERT_TRUE(WriteTorchSave(dir + ".sources.pt", sources).ok());
    ASSERT_TRUE(WriteNpy(dir + ".source.npy", sources[0].second).ok());
    EXPECT_EQ(*io::ReadFile(dir + ".sources.npz"), *io::ReadFile(dir + ".tensors.npz")) << with_crc;
    EXPECT_EQ(*io::ReadFile(dir + ".sources.pt"), *io::ReadFile(dir + ".tensors.pt")) << with_crc;
    EXPECT_EQ(*io::ReadFile(dir + ".source.npy"), *io::ReadFile(dir + ".tensor.npy")) << with_crc;
  }
  ASSERT_TRUE(WriteNpz(dir + ".of.npz", SourcesOf(tensors)).ok());
  EXPECT_EQ(*io::ReadFile(dir + ".of.npz"), *io::ReadFile(dir + ".tensors.npz"));
  for (const char* suffix : {".tensors.npz", ".tensors.pt", ".tensor.npy", ".sources.npz",
                             ".sources.pt", ".source.npy", ".of.npz"}) {
    std::remove((dir + suffix).c_str());
  }
}

TEST(NpyTest, SourcesOfTheWrongSizeOrShapeWriteNoFile) {
  const Tensor tensor = *MakeFloat32(std::vector<float>{1, 2, 3});
  TensorSource longer = Pieces(tensor, 4, false);
  longer.shape = {2};  // 8 bytes announced, 12 given
  const std::string path = testing::UniqueTempPath("bad.npz");
  absl::Status s = WriteNpz(path, {{"w", longer}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("tensors[w]: the source gave 12 bytes, its shape needs 8"),
            std::string::npos)
      << s;
  s = WriteNpy(path, longer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  TensorSource negative = Pieces(tensor, 4, true);
  negative.shape = {-3};
  s = WriteTorchSave(path, {{"w", negative}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("tensors[w]: negative dimension"), std::string::npos) << s;
  EXPECT_FALSE(std::ifstream(path).good());
}

TEST(NpyTest, NpzHoldsOneNpyPerTensor) {
  const std::string npz = *EncodeNpz({{"layer0", *MakeFloat32(std::vector<float>{1})},
                                      {"z", *MakeFloat32(std::vector<float>{2})}});
  EXPECT_EQ(npz.substr(0, 4), "PK\x03\x04");
  EXPECT_NE(npz.find("layer0.npy"), std::string::npos);
  EXPECT_NE(npz.find("z.npy"), std::string::npos);
  EXPECT_EQ(EncodeNpz({{"bad", Tensor{DType::kFloat32, {2}, "x"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NpyTest, WrittenFilesAreStreamedWithTheSameBytesAsTheEncoders) {
  const NamedTensors tensors = {{"layer0", *MakeFloat32(std::vector<float>{1, 2, 3}, {1, 3})},
                                {"z", *MakeFloat32(std::vector<float>{2})}};
  const std::string npz = testing::UniqueTempPath("w.npz");
  ASSERT_TRUE(WriteNpz(npz, tensors).ok());
  EXPECT_EQ(*io::ReadFile(npz), *EncodeNpz(tensors));
  const std::string npy = testing::UniqueTempPath("w.npy");
  ASSERT_TRUE(WriteNpy(npy, tensors[0].second).ok());
  EXPECT_EQ(*io::ReadFile(npy), *EncodeNpy(tensors[0].second));
  // A malformed tensor fails before anything is written.
  EXPECT_EQ(WriteNpz(npz, {{"bad", Tensor{DType::kFloat32, {2}, "x"}}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*io::ReadFile(npz), *EncodeNpz(tensors));
  std::remove(npz.c_str());
  std::remove(npy.c_str());
}

// Manual (4.3 GB of memory and disk each side, minutes): --gtest_also_run_disabled_tests.
TEST(NpyTest, DISABLED_FilesPastFourGiBOpenWithNumpyAndTorch) {
  HNET_SKIP_WITHOUT_PYTHON_MODULE("torch");
  const int64_t size = (int64_t{1} << 32) + 4096;
  Tensor big{DType::kUint8, {size}, std::string(static_cast<size_t>(size), '\0')};
  for (int64_t i = 0; i < size; ++i) big.bytes[i] = static_cast<char>(i % 251);
  NamedTensors tensors;
  tensors.emplace_back("big", std::move(big));
  tensors.emplace_back("after", *MakeFloat32(std::vector<float>{1, 2, 3}));
  const std::string npz = testing::UniqueTempPath("big.npz");
  const std::string pt = testing::UniqueTempPath("big.pt");
  ASSERT_TRUE(WriteNpz(npz, tensors).ok());
  ASSERT_TRUE(WriteTorchSave(pt, tensors).ok());
  tensors.clear();
  EXPECT_EQ(testing::RunPython(R"PY(
import zipfile, numpy as np, torch
def check(big, after):
    n = (1 << 32) + 4096
    assert big.shape == (n,), big.shape
    for i in (0, 250, 251, (1 << 32) + 5, n - 1):
        assert int(big[i]) == i % 251, (i, big[i])
    assert list(after) == [1, 2, 3], after
assert [i.file_size for i in zipfile.ZipFile(')PY" +
                               npz + R"PY(').infolist()][1] == 140
d = np.load(')PY" + npz + R"PY(')
check(d['big'], d['after'])
del d
t = torch.load(')PY" + pt + R"PY(')
check(t['big'].numpy(), t['after'].tolist())
)PY"),
            0);
  std::remove(npz.c_str());
  std::remove(pt.c_str());
}

}  // namespace
}  // namespace hnet::client
