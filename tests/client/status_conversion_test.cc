#include "client/internal/status_conversion.h"

#include <gtest/gtest.h>

namespace hnet::client::internal {
namespace {

TEST(StatusConversionTest, EveryCanonicalCodeAndMessageSurvive) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  for (int code = 1; code <= 16; ++code) {
    const grpc::Status in(static_cast<grpc::StatusCode>(code), "field x: bad");
    const absl::Status out = FromGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.code()), code);
    EXPECT_EQ(out.message(), "field x: bad");
    const grpc::Status back = ToGrpcStatus(out);
    EXPECT_EQ(back.error_code(), in.error_code());
    EXPECT_EQ(back.error_message(), in.error_message());
  }
}

TEST(StatusConversionTest, NamedCodesMatch) {
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")),
            absl::UnavailableError("down"));
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "big")),
            absl::ResourceExhaustedError("big"));
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow")),
            absl::DeadlineExceededError("slow"));
}

TEST(StatusConversionTest, UnknownCodesBecomeUnknown) {
  const absl::Status out = FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(99), "?"));
  EXPECT_EQ(out.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(out.message(), "?");
}

}  // namespace
}  // namespace hnet::client::internal
