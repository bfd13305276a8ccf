#include "core/torch_status.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>

#include "tests/memory_limit.h"

namespace hnet::core {
namespace {

TEST(TorchCall, PassesResultsAndStatusesThrough) {
  EXPECT_TRUE(TorchCall("nothing", [] {}).ok());
  absl::StatusOr<int> value = TorchCall("value", [] { return 7; });
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 7);
  absl::Status refused =
      TorchCall("refusal", []() -> absl::Status { return absl::DataLossError("bad bytes"); });
  EXPECT_EQ(refused, absl::DataLossError("bad bytes"));
}

TEST(TorchCall, ATorchCheckFailureIsInternalStartingWithWhat) {
  const absl::Status status = TorchCall("adding", [] { TORCH_CHECK(false, "shapes differ"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_EQ(status.message().rfind("adding: ", 0), 0u) << status;
  EXPECT_NE(status.message().find("shapes differ"), std::string::npos) << status;
}

TEST(TorchCall, AnotherStdExceptionIsInternal) {
  const absl::Status status = TorchCall("parsing", [] { throw std::runtime_error("oops"); });
  EXPECT_EQ(status, absl::InternalError("parsing: oops"));
}

TEST(TorchCall, BadAllocIsResourceExhausted) {
  absl::StatusOr<int> status = TorchCall("allocating", []() -> int { throw std::bad_alloc(); });
  EXPECT_EQ(status.status().code(), absl::StatusCode::kResourceExhausted) << status.status();
  EXPECT_EQ(status.status().message().rfind("allocating: ", 0), 0u) << status.status();
}

TEST(TorchCall, OutOfMemoryErrorIsResourceExhaustedKeepingTheMessage) {
  const absl::Status status = TorchCall("generating", [] {
    C10_THROW_ERROR(OutOfMemoryError, "CUDA out of memory. Tried to allocate 2.00 GiB");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("CUDA out of memory. Tried to allocate 2.00 GiB"),
            std::string::npos)
      << status;
}

TEST(TorchCall, CpuAllocatorMessagesAreResourceExhausted) {
  for (const char* message :
       {"DefaultCPUAllocator: not enough memory: you tried to allocate 8",
        "DefaultCPUAllocator: can't allocate memory: you tried to allocate 8"}) {
    const absl::Status status = TorchCall("copying", [&] { TORCH_CHECK(false, message); });
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
    EXPECT_NE(status.message().find(message), std::string::npos) << status;
  }
}

// The real allocator, in a child whose address space cannot take 4 GiB more.
TEST(TorchCall, ATensorThatDoesNotFitInMemoryIsResourceExhausted) {
  EXPECT_TRUE(hnet::testing::RunWithMemoryHeadroom(64 << 20, [] {
    const absl::StatusOr<at::Tensor> tensor =
        TorchCall("allocating", [] { return torch::empty({int64_t{1} << 30}, torch::kFloat32); });
    const bool ok = tensor.status().code() == absl::StatusCode::kResourceExhausted;
    if (!ok) std::fprintf(stderr, "unexpected: %s\n", tensor.status().ToString().c_str());
    return ok;
  }));
}

}  // namespace
}  // namespace hnet::core
