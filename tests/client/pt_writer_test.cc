#include "client/pt_writer.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "client/npy.h"
#include "io/file_io.h"
#include "tests/client/python_util.h"

namespace hnet::client {
namespace {

using testing::RunPython;

Tensor Scalar(double value) {
  Tensor t = *MakeTensor<double>(std::vector<double>{value});
  t.shape.clear();
  return t;
}

// Tensors of every dtype, shapes including a scalar and an empty tensor.
NamedTensors Sample() {
  return {
      {"layer0.conv5x5x32", *MakeFloat32(std::vector<float>{0, 1, 2, 3, 4, 5.5f}, {2, 3})},
      {"bytes", *MakeUint8(std::vector<uint8_t>{0, 1, 2, 255})},
      {"longs", *MakeTensor<int64_t>(std::vector<int64_t>{-1, int64_t{1} << 40, 3, 70000}, {2, 2})},
      {"ints", *MakeTensor<int32_t>(std::vector<int32_t>{}, {0, 3})},
      {"scalar", Scalar(2.5)},
  };
}

constexpr char kCheck[] = R"PY(
import math
def check(d, as_list):
    assert list(d.keys()) == ['layer0.conv5x5x32', 'bytes', 'longs', 'ints', 'scalar'], list(d)
    assert as_list(d['layer0.conv5x5x32']) == [[0, 1, 2], [3, 4, 5.5]]
    assert as_list(d['bytes']) == [0, 1, 2, 255]
    assert as_list(d['longs']) == [[-1, 1 << 40], [3, 70000]]
    assert tuple(d['ints'].shape) == (0, 3)
    assert as_list(d['scalar']) == 2.5
)PY";

TEST(PtWriterTest, ArchiveLayoutMatchesTorchSave) {
  const std::string pt = *EncodeTorchSave(Sample());
  EXPECT_EQ(pt.substr(0, 4), "PK\x03\x04");
  EXPECT_NE(pt.find("archive/data.pkl"), std::string::npos);
  EXPECT_NE(pt.find("archive/data/4"), std::string::npos);
  EXPECT_NE(pt.find("archive/version"), std::string::npos);
  EXPECT_NE(pt.find("_rebuild_tensor_v2"), std::string::npos);
  EXPECT_NE(pt.find("torch\nLongStorage\n"), std::string::npos);
}

TEST(PtWriterTest, RejectsDuplicatesAndMalformedTensors) {
  NamedTensors twice = {{"a", *MakeUint8(std::vector<uint8_t>{1})},
                        {"a", *MakeUint8(std::vector<uint8_t>{2})}};
  EXPECT_EQ(EncodeTorchSave(twice).status().code(), absl::StatusCode::kInvalidArgument);
  NamedTensors bad = {{"a", Tensor{DType::kFloat32, {3}, "x"}}};
  EXPECT_NE(EncodeTorchSave(bad).status().message().find("tensors[a]"), std::string::npos);
}

TEST(PtWriterTest, TorchLoadReadsIt) {
  HNET_SKIP_WITHOUT_PYTHON_MODULE("torch");
  const std::string path = testing::UniqueTempPath("test.pt");
  ASSERT_TRUE(WriteTorchSave(path, Sample()).ok());
  EXPECT_EQ(RunPython(std::string(kCheck) + R"PY(
import torch
d = torch.load(')PY" + path +
                      R"PY(')
assert d['layer0.conv5x5x32'].dtype == torch.float32
assert d['bytes'].dtype == torch.uint8 and d['longs'].dtype == torch.int64
assert d['ints'].dtype == torch.int32 and d['scalar'].dtype == torch.float64
assert d['longs'].is_contiguous() and not d['longs'].requires_grad
check(d, lambda t: t.tolist())
)PY"),
            0);
  std::remove(path.c_str());
}

TEST(PtWriterTest, NumPyLoadsNpzAndNpy) {
  HNET_SKIP_WITHOUT_PYTHON_MODULE("numpy");
  const std::string npz = testing::UniqueTempPath("test.npz");
  const std::string npy = testing::UniqueTempPath("test.npy");
  ASSERT_TRUE(WriteNpz(npz, Sample()).ok());
  ASSERT_TRUE(WriteNpy(npy, Sample()[2].second).ok());
  EXPECT_EQ(RunPython(std::string(kCheck) + R"PY(
import numpy as np
d = np.load(')PY" + npz +
                      R"PY(')
check({k: d[k] for k in d.files}, lambda a: a.tolist())
assert d['layer0.conv5x5x32'].dtype == np.float32 and d['bytes'].dtype == np.uint8
a = np.load(')PY" + npy +
                      R"PY(')
assert a.dtype == np.int64 and a.tolist() == [[-1, 1 << 40], [3, 70000]]
)PY"),
            0);
  std::remove(npz.c_str());
  std::remove(npy.c_str());
}

TEST(PtWriterTest, WrittenFileIsStreamedWithTheSameBytesAsEncodeTorchSave) {
  const std::string path = testing::UniqueTempPath("w.pt");
  ASSERT_TRUE(WriteTorchSave(path, Sample()).ok());
  EXPECT_EQ(*io::ReadFile(path), *EncodeTorchSave(Sample()));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace hnet::client
