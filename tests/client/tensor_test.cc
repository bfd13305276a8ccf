#include "client/tensor.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>

namespace hnet::client {
namespace {

TEST(TensorTest, MakeFloat32AndView) {
  absl::StatusOr<Tensor> t = MakeFloat32(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype, DType::kFloat32);
  EXPECT_EQ(t->bytes.size(), 24u);
  EXPECT_EQ(NumElements(*t), 6);
  absl::StatusOr<absl::Span<const float>> view = View<float>(*t);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ((*view)[5], 6.0f);
}

TEST(TensorTest, BytesAreLittleEndian) {
  Tensor t = *MakeTensor<int32_t>(std::vector<int32_t>{0x01020304});
  EXPECT_EQ(t.bytes, std::string("\x04\x03\x02\x01", 4));
}

TEST(TensorTest, DefaultShapeIsOneDimensional) {
  Tensor t = *MakeUint8(std::vector<uint8_t>{1, 2, 3});
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(*ToVector<uint8_t>(t), (std::vector<uint8_t>{1, 2, 3}));
}

TEST(TensorTest, ShapeMismatchIsInvalid) {
  absl::StatusOr<Tensor> t = MakeFloat32(std::vector<float>{1, 2, 3}, {2, 2});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TensorTest, ViewChecksDtype) {
  Tensor t = *MakeUint8(std::vector<uint8_t>{1});
  absl::StatusOr<absl::Span<const float>> view = View<float>(t);
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(view.status().message().find("uint8"), std::string::npos);
}

TEST(TensorTest, ValidateNamesFieldAndProblem) {
  Tensor t;
  EXPECT_NE(ValidateTensor(t, "inputs").message().find("inputs: dtype"), std::string::npos);
  t.dtype = DType::kFloat64;
  t.shape = {2};
  t.bytes = std::string(15, '\0');
  absl::Status s = ValidateTensor(t, "z");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("needs 16"), std::string::npos);
  t.shape = {-2};
  EXPECT_NE(ValidateTensor(t, "z").message().find("negative"), std::string::npos);
}

TEST(TensorTest, ScalarAndEmpty) {
  Tensor scalar{DType::kFloat64, {}, std::string(8, '\0')};
  EXPECT_TRUE(ValidateTensor(scalar, "s").ok());
  EXPECT_EQ(NumElements(scalar), 1);
  Tensor empty{DType::kInt32, {0, 5}, ""};
  EXPECT_TRUE(ValidateTensor(empty, "e").ok());
  EXPECT_TRUE(IsUnset(Tensor()));
  EXPECT_FALSE(IsUnset(empty));
}

TEST(TensorTest, RowSelectsAlongFirstDimension) {
  Tensor t = *MakeTensor<int64_t>(std::vector<int64_t>{1, 2, 3, 4, 5, 6}, {3, 2});
  absl::StatusOr<Tensor> row = Row(t, 2);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(*ToVector<int64_t>(*row), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(Row(t, 3).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TensorTest, ShapeWhoseByteCountOverflowsIsInvalid) {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = {int64_t{1} << 32, int64_t{1} << 30};  // 2^62 elements, 2^64 bytes.
  const absl::Status s = ValidateTensor(t, "z");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("too large"), std::string::npos) << s;
  t.dtype = DType::kFloat64;
  t.shape = {int64_t{1} << 61};
  EXPECT_EQ(ValidateTensor(t, "z").code(), absl::StatusCode::kInvalidArgument);
  t.shape = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_EQ(NumElements(t), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ByteCount({3, 5}, 4), 60u);
  EXPECT_EQ(ByteCount({3, -1}, 4), std::nullopt);
  EXPECT_EQ(ByteCount({int64_t{1} << 62, 4}, 1), std::nullopt);
}

TEST(TensorTest, DTypeNamesAndSizes) {
  EXPECT_EQ(DTypeName(DType::kInt64), "int64");
  EXPECT_EQ(ElementSize(DType::kFloat64), 8u);
  EXPECT_EQ(ElementSize(DType::kUnspecified), 0u);
}

}  // namespace
}  // namespace hnet::client
