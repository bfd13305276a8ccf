#include "client/idx.h"

#include <gtest/gtest.h>

namespace hnet::client {
namespace {

std::string Header(uint8_t type, std::vector<uint32_t> dims) {
  std::string out = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(d >> shift));
  }
  return out;
}

TEST(IdxTest, DecodesUint8Images) {
  const std::string bytes = Header(0x08, {2, 1, 3}) + std::string("\x01\x02\x03\x04\x05\xff");
  absl::StatusOr<Tensor> t = DecodeIdx(bytes);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype, DType::kUint8);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ((*ToVector<uint8_t>(*t))[5], 255);
}

TEST(IdxTest, RejectsAShapeWhoseSizeOverflows) {
  // 2^32-1 cubed times 2^32-1 elements of float32: more than 2^64 bytes, and no data at all.
  const absl::StatusOr<Tensor> t =
      DecodeIdx(Header(0x0D, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("more than 2^64"), std::string::npos) << t.status();
}

TEST(IdxTest, ConvertsBigEndianInt32AndFloat32) {
  absl::StatusOr<Tensor> ints = DecodeIdx(Header(0x0C, {1}) + std::string("\x00\x01\x02\x03", 4));
  ASSERT_TRUE(ints.ok()) << ints.status();
  EXPECT_EQ((*ToVector<int32_t>(*ints))[0], 0x00010203);
  absl::StatusOr<Tensor> floats = DecodeIdx(Header(0x0D, {1}) + std::string("\x3f\x80\x00\x00", 4));
  ASSERT_TRUE(floats.ok()) << floats.status();
  EXPECT_EQ((*ToVector<float>(*floats))[0], 1.0f);
}

TEST(IdxTest, RejectsMalformedFiles) {
  EXPECT_EQ(DecodeIdx("\x1f\x8b\x08\x00").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(DecodeIdx(Header(0x08, {3}) + "ab").status().message().find("needs 3 data bytes, found 2"),
            std::string::npos);
  EXPECT_NE(DecodeIdx(Header(0x09, {1}) + "a").status().message().find("0x9"),
            std::string::npos);
  EXPECT_EQ(ReadIdx("/nonexistent/file").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hnet::client
