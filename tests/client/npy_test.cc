#include "client/npy.h"

#include <gtest/gtest.h>

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

TEST(NpyTest, NpzHoldsOneNpyPerTensor) {
  const std::string npz = *EncodeNpz({{"layer0", *MakeFloat32(std::vector<float>{1})},
                                      {"z", *MakeFloat32(std::vector<float>{2})}});
  EXPECT_EQ(npz.substr(0, 4), "PK\x03\x04");
  EXPECT_NE(npz.find("layer0.npy"), std::string::npos);
  EXPECT_NE(npz.find("z.npy"), std::string::npos);
  EXPECT_EQ(EncodeNpz({{"bad", Tensor{DType::kFloat32, {2}, "x"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hnet::client
