// The `hnet` CLI commands against a fake server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include "client/cli/commands.h"
#include "client/cli/inputs.h"
#include "client/npy.h"
#include "io/file_io.h"
#include "tests/as_nobody.h"
#include "tests/client/fake_server.h"
#include "tests/client/python_util.h"

namespace hnet::cli {
namespace {

using client::testing::FakeServer;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client::ClientOptions options;
    options.addresses = {server_.address()};
    client_ = *client::Client::Connect(options);
    dir_ = client::testing::UniqueTempPath("cli");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes an IDX file of `type` with `dims` and raw big-endian `data`.
  std::string WriteIdx(const std::string& name, uint8_t type, std::vector<uint32_t> dims,
                       const std::string& data) {
    std::string bytes = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (uint32_t d : dims) {
      for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(d >> shift));
    }
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(io::WriteFile(path, bytes + data).ok());
    return path;
  }

  FakeServer server_{"mnist"};
  std::unique_ptr<client::Client> client_;
  std::string dir_;
};

TEST_F(CliTest, ResolvesTheOnlyModel) {
  EXPECT_EQ(*ResolveModel(*client_, ""), "mnist");
  EXPECT_EQ(*ResolveModel(*client_, "other"), "other");
}

TEST_F(CliTest, InfoPrintsTheModel) {
  std::ostringstream out;
  ASSERT_TRUE(RunInfo(*client_, "mnist", 0, out).ok());
  EXPECT_NE(out.str().find("model mnist version 3 (content deadbeef, latest) on cpu"),
            std::string::npos);
  EXPECT_NE(out.str().find("layer0"), std::string::npos);
  EXPECT_EQ(RunInfo(*client_, "nope", 0, out).code(), absl::StatusCode::kNotFound);
}

TEST_F(CliTest, SampleWritesNpyNpzAndPt) {
  SampleArgs args;
  args.n = 2;
  args.seed = 3;
  args.return_z = true;
  args.out_dir = dir_ + "/layers";
  args.npz = dir_ + "/w.npz";
  args.pt = dir_ + "/w.pt";
  std::ostringstream out;
  absl::Status s = RunSample(*client_, "mnist", args, out);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<client::Tensor> layer0 = client::ReadNpy(args.out_dir + "/layer0.npy");
  ASSERT_TRUE(layer0.ok()) << layer0.status();
  EXPECT_EQ(layer0->shape, (std::vector<int64_t>{2, 2, 3}));
  EXPECT_TRUE(std::filesystem::exists(args.out_dir + "/z.npy"));
  if (!client::testing::PythonHas("torch")) GTEST_SKIP() << "no torch for /usr/bin/python3";
  EXPECT_EQ(client::testing::RunPython(R"PY(
import torch, numpy as np
d = torch.load(')PY" + args.pt + R"PY(')
assert list(d) == ['layer0', 'layer1', 'z'], list(d)
assert tuple(d['layer0'].shape) == (2, 2, 3)
assert d['layer1'][1, 0, 2].item() == 3000 + 10 + 1 + 2 / 8
n = np.load(')PY" + args.npz + R"PY(')
assert (n['layer0'] == d['layer0'].numpy()).all()
)PY"),
            0);
}

TEST_F(CliTest, SamplePastTheMessageLimitStreamsTheSameFilesInEveryFormat) {
  SampleArgs args;
  args.n = 20;  // 20 x (9 weights + 1 z) x 4 bytes: past a 512-byte message limit.
  args.seed = 4;
  args.return_z = true;
  auto outputs = [&](const std::string& stem) {
    args.out_dir = dir_ + "/" + stem;
    args.npz = dir_ + "/" + stem + ".npz";
    args.pt = dir_ + "/" + stem + ".pt";
  };
  outputs("unary");
  std::ostringstream out;
  ASSERT_TRUE(RunSample(*client_, "mnist", args, out).ok());
  EXPECT_EQ(out.str().find("streamed"), std::string::npos) << out.str();
  client::ClientOptions small = client_->options();
  small.max_message_bytes = 512;
  auto streaming = *client::Client::Connect(small);
  outputs("streamed");
  std::ostringstream streamed_out;
  absl::Status s = RunSample(*streaming, "mnist", args, streamed_out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(streamed_out.str().find("streamed 20 networks"), std::string::npos)
      << streamed_out.str();
  EXPECT_NE(streamed_out.str().find("layer1                   [20, 1, 3] float32"),
            std::string::npos)
      << streamed_out.str();
  for (const std::string& file : {".npz", ".pt", "/layer0.npy", "/layer1.npy", "/z.npy"}) {
    absl::StatusOr<std::string> streamed = io::ReadFile(dir_ + "/streamed" + file);
    ASSERT_TRUE(streamed.ok()) << streamed.status();
    EXPECT_EQ(*streamed, *io::ReadFile(dir_ + "/unary" + file)) << file;
  }
  EXPECT_EQ(client::ReadNpy(dir_ + "/streamed/z.npy")->shape, (std::vector<int64_t>{20, 1}));
}

// The peak resident memory of this process (VmHWM), after `reset` set it to the current
// size; nullopt where /proc cannot do that.
std::optional<int64_t> PeakRssKb(bool reset) {
  if (reset) {
    std::FILE* clear = std::fopen("/proc/self/clear_refs", "w");
    if (clear == nullptr) return std::nullopt;
    const bool written = std::fputs("5", clear) >= 0;
    if (std::fclose(clear) != 0 || !written) return std::nullopt;
  }
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return std::nullopt;
  char line[256];
  std::optional<int64_t> kb;
  while (std::fgets(line, sizeof(line), status) != nullptr) {
    long long value = 0;
    if (std::sscanf(line, "VmHWM: %lld kB", &value) == 1) kb = value;
  }
  std::fclose(status);
  return kb;
}

TEST_F(CliTest, StreamedSampleKeepsMemoryBoundedWhateverN) {
  // 48 networks of 1.5 MiB each (72 MiB) through 4 MiB messages: holding them all, as the
  // stacking in memory did, would raise the peak by 72 MiB at least; the spool on disk by a
  // few buffers.
  server_.service().columns = 1 << 17;  // 3 x 2^17 floats = 1.5 MiB a network
  client::ClientOptions options = client_->options();
  options.max_message_bytes = 4 << 20;
  auto client = *client::Client::Connect(options);
  SampleArgs args;
  args.n = 48;
  args.seed = 6;
  args.npz = dir_ + "/w.npz";
  args.pt = dir_ + "/w.pt";
  const std::optional<int64_t> before = PeakRssKb(/*reset=*/true);
  if (!before.has_value()) GTEST_SKIP() << "cannot reset the peak RSS (/proc/self/clear_refs)";
  std::ostringstream out;
  const absl::Status s = RunSample(*client, "mnist", args, out);
  const int64_t peak_growth_mb = (*PeakRssKb(/*reset=*/false) - *before) / 1024;
  RecordProperty("peak_growth_mb", static_cast<int>(peak_growth_mb));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(out.str().find("streamed 48 networks"), std::string::npos) << out.str();
  EXPECT_LT(peak_growth_mb, 36) << "peak memory grew by " << peak_growth_mb << " MiB";
  absl::StatusOr<std::string> npz = io::ReadFile(args.npz);
  ASSERT_TRUE(npz.ok()) << npz.status();
  EXPECT_GT(npz->size(), size_t{72} << 20);
  if (!client::testing::PythonHas("numpy")) return;
  EXPECT_EQ(client::testing::RunPython(R"PY(
import numpy as np
n = np.load(')PY" + args.npz + R"PY(')
assert n['layer0'].shape == (48, 2, 131072), n['layer0'].shape
assert n['layer1'][47, 0, 8] == 6000 + 470 + 1 + 1, n['layer1'][47, 0, 8]
)PY"),
            0);
}

TEST_F(CliTest, StreamedSampleOutOfTimeNamesTheDeadlineFlagAndWritesNothing) {
  server_.service().stream_interval = absl::Milliseconds(100);  // 20 networks: 2 s
  client::ClientOptions options = client_->options();
  options.deadline = absl::Milliseconds(700);
  options.max_message_bytes = 512;  // streams
  auto client = *client::Client::Connect(options);
  SampleArgs args;
  args.n = 20;
  args.seed = 1;
  args.npz = dir_ + "/w.npz";
  std::ostringstream out;
  const absl::Status s = RunSample(*client, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_EQ(s.message().rfind("--deadline: streaming 20 networks (", 0), 0u) << s;
  EXPECT_NE(s.message().find("raise --deadline"), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(args.npz));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

TEST_F(CliTest, SampleRejectsSeedWithZ) {
  SampleArgs args;
  args.seed = 1;
  args.z_file = dir_ + "/z.npy";
  args.npz = dir_ + "/w.npz";
  std::ostringstream out;
  absl::Status s = RunSample(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("--seed:", 0), 0u) << s;
}

TEST_F(CliTest, SampleWithZGeneratesOneNetworkPerRow) {
  SampleArgs args;
  args.z_file = dir_ + "/z.npy";  // the fake model's z_dim is 1
  ASSERT_TRUE(
      client::WriteNpy(args.z_file, *client::MakeTensor<float>(std::vector<float>(3, 0.5f), {3, 1}))
          .ok());
  args.npz = dir_ + "/w.npz";
  std::ostringstream out;
  absl::Status s = RunSample(*client_, "mnist", args, out);
  ASSERT_TRUE(s.ok()) << s;
  absl::MutexLock lock(&server_.service().mu);
  EXPECT_EQ(server_.service().last_sample.noise().z().shape(0), 3);
}

TEST_F(CliTest, SampleNamesTheFlagOfEachBadArgumentBeforeCallingTheServer) {
  struct Case {
    SampleArgs args;
    std::string message;
  };
  SampleArgs nothing_written;
  SampleArgs zero;
  zero.n = 0;
  zero.npz = dir_ + "/w.npz";
  SampleArgs n_and_z;
  n_and_z.n = 5;
  n_and_z.z_file = dir_ + "/z.npy";
  n_and_z.npz = dir_ + "/w.npz";
  for (const Case& c : std::vector<Case>{{nothing_written, "give --out_dir, --npz or --pt"},
                                         {zero, "-n: must be >= 1, got 0"},
                                         {n_and_z, "-n: give -n or --z, not both"}}) {
    std::ostringstream out;
    absl::Status s = RunSample(*client_, "mnist", c.args, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(s.message().rfind(c.message, 0), 0u) << s;
  }
  EXPECT_EQ(server_.service().calls.load(), 0);
}

TEST_F(CliTest, ClassifyReportsAccuracy) {
  ClassifyArgs args;
  args.images = {WriteIdx("images", 0x08, {4, 2, 2}, std::string(16, '\x10'))};
  args.labels = WriteIdx("labels", 0x08, {4}, std::string("\x00\x09\x02\x07", 4));
  args.batch = 3;  // two requests
  std::ostringstream out;
  absl::Status s = RunClassify(*client_, "mnist", args, out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(out.str().find("accuracy 0.5000 (2/4)"), std::string::npos) << out.str();
  EXPECT_EQ(server_.service().calls.load(), 3);  // GetModelInfo (pins the version), 2 batches.
  EXPECT_NE(out.str().find("model mnist version 3 (content deadbeef)"), std::string::npos);
  absl::MutexLock lock(&server_.service().mu);
  EXPECT_EQ(server_.service().last_classify.version(), 3);
}

TEST_F(CliTest, ClassifyNamesBadRule) {
  ClassifyArgs args;
  args.images = {"unused"};
  args.rule = "median";
  std::ostringstream out;
  EXPECT_NE(RunClassify(*client_, "mnist", args, out).message().find("--rule"), std::string::npos);
}

TEST_F(CliTest, PathWritesCsv) {
  PathArgs args;
  args.points = 3;
  args.csv = dir_ + "/path.csv";
  std::ostringstream out;
  ASSERT_TRUE(RunPath(*client_, "mnist", args, out).ok());
  EXPECT_EQ(*io::ReadFile(args.csv),
            "t,direct_accuracy,interpolated_accuracy\n0,1,0.75\n0.5,0.75,0.75\n1,0.5,0.75\n");
}

TEST_F(CliTest, PathMarksAModeThatWasNotRunInsteadOfPrintingZero) {
  PathArgs args;
  args.points = 3;
  args.mode = "direct";
  args.csv = dir_ + "/path.csv";
  std::ostringstream out;
  ASSERT_TRUE(RunPath(*client_, "mnist", args, out).ok());
  EXPECT_EQ(*io::ReadFile(args.csv),
            "t,direct_accuracy,interpolated_accuracy\n0,1,\n0.5,0.75,\n1,0.5,\n");
  EXPECT_NE(out.str().find("  0.5000     0.7500             -\n"), std::string::npos) << out.str();
}

TEST_F(CliTest, PathNamesTheFlagOfEachBadArgument) {
  const std::string images = WriteIdx("images", 0x08, {4, 2, 2}, std::string(16, '\x10'));
  const std::string labels = WriteIdx("labels", 0x08, {3}, std::string("\x00\x01\x02", 3));
  PathArgs limit_alone;
  limit_alone.limit = 100;
  PathArgs one_point;
  one_point.points = 1;
  PathArgs mismatched;
  mismatched.images = images;
  mismatched.labels = labels;
  for (const auto& [args, message] : std::vector<std::pair<PathArgs, std::string>>{
           {limit_alone, "--limit: applies to --images"},
           {one_point, "--points: must be >= 2, got 1"},
           {mismatched, "--labels: 3 labels for 4 images"}}) {
    std::ostringstream out;
    absl::Status s = RunPath(*client_, "mnist", args, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_EQ(s.message().rfind(message, 0), 0u) << s;
  }
  EXPECT_EQ(server_.service().calls.load(), 0);
}

TEST_F(CliTest, LabelsOfAnotherSetAreRefusedEvenWhenLimitCutsBothToTheSameCount) {
  // --labels train-labels --images t10k-images --limit 2: both have >= 2 entries, yet they
  // do not belong together.
  const std::string images = WriteIdx("images", 0x08, {4, 2, 2}, std::string(16, '\x10'));
  const std::string labels = WriteIdx("labels", 0x08, {6}, std::string(6, '\x01'));
  ClassifyArgs classify;
  classify.images = {images};
  classify.labels = labels;
  classify.limit = 2;
  std::ostringstream out;
  absl::Status s = RunClassify(*client_, "mnist", classify, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), "--labels: 6 labels for 4 images");
  PathArgs path;
  path.images = images;
  path.labels = labels;
  path.limit = 2;
  s = RunPath(*client_, "mnist", path, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), "--labels: 6 labels for 4 images");
  EXPECT_EQ(server_.service().calls.load(), 0);
  // Matching files cut by --limit are fine.
  classify.labels = WriteIdx("labels4", 0x08, {4}, std::string("\x00\x09\x02\x07", 4));
  s = RunClassify(*client_, "mnist", classify, out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(out.str().find("accuracy 0.5000 (1/2)"), std::string::npos) << out.str();
}

TEST_F(CliTest, ImagesMustBeOneIdxImageFileOrPngs) {
  const std::string labels = WriteIdx("labels", 0x08, {2}, "ab");
  absl::StatusOr<client::Tensor> read = LoadImages({labels});
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("shape [2], not images"), std::string::npos)
      << read.status();
  read = LoadImages({labels, labels});
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("give one IDX file or several .png files"),
            std::string::npos)
      << read.status();
  ClassifyArgs args;
  args.images = {WriteIdx("images", 0x08, {4, 2, 2}, std::string(16, '\x10'))};
  args.ensemble_size = 0;
  std::ostringstream out;
  EXPECT_EQ(RunClassify(*client_, "mnist", args, out).message(),
            "-k/--ensemble_size: must be >= 1, got 0");
}

TEST_F(CliTest, GzipIsReadTransparently) {
  const std::string plain = WriteIdx("plain", 0x08, {2}, "ab");
  const std::string gz = dir_ + "/labels.gz";
  ASSERT_EQ(std::system(("gzip -c " + plain + " > " + gz).c_str()), 0);
  absl::StatusOr<client::Tensor> labels = LoadLabels(gz);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(*client::ToVector<int64_t>(*labels), (std::vector<int64_t>{'a', 'b'}));
}

TEST_F(CliTest, PngFilesAreStacked) {
  // A 3x2 8-bit grayscale PNG with pixels 0, 10, ..., 50.
  const std::string png(
      "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x03"
      "\x00\x00\x00\x02\x08\x00\x00\x00\x00\xb8\x1f\x39\xc6\x00\x00\x00\x10\x49\x44\x41"
      "\x54\x78\x9c\x63\x60\xe0\x12\x61\x90\xd3\x30\x02\x00\x01\x84\x00\x97\x00\x76\x44"
      "\x62\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82",
      73);
  const std::string path = dir_ + "/digit.png";
  ASSERT_TRUE(io::WriteFile(path, png).ok());
  absl::StatusOr<client::Tensor> images = LoadImages({path, path});
#ifdef HNET_CLI_HAVE_PNG
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->shape, (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ((*client::ToVector<uint8_t>(*images))[11], 50);
#else
  EXPECT_EQ(images.status().code(), absl::StatusCode::kUnimplemented);
#endif
  EXPECT_EQ(LoadImages({dir_ + "/missing.png"}).status().code(), absl::StatusCode::kNotFound);
}

// Big-endian IDX float64 data of `values`.
std::string BigEndianDoubles(const std::vector<double>& values) {
  std::string data;
  for (double v : values) {
    char bytes[8];
    std::memcpy(bytes, &v, 8);
    for (int i = 7; i >= 0; --i) data.push_back(bytes[i]);
  }
  return data;
}

TEST_F(CliTest, SampleWithAScalarZFailsNamingZBeforeCallingTheServer) {
  SampleArgs args;
  args.z_file = dir_ + "/z.npy";
  ASSERT_TRUE(
      client::WriteNpy(args.z_file, client::Tensor{client::DType::kFloat32, {}, std::string(4, 0)})
          .ok());
  args.npz = dir_ + "/w.npz";
  std::ostringstream out;
  const absl::Status s = RunSample(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("--z: ", 0), 0u) << s;
  EXPECT_NE(s.message().find("[n, z_dim]"), std::string::npos) << s;
  EXPECT_EQ(server_.service().calls.load(), 0);
}

TEST_F(CliTest, SampleConvertsFloat64ZAndTakesA1DZAsOneNetwork) {
  SampleArgs args;
  args.z_file = dir_ + "/z.npy";
  args.npz = dir_ + "/w.npz";
  ASSERT_TRUE(client::WriteNpy(args.z_file,
                               *client::MakeTensor<double>(std::vector<double>{0.25, 0.5}, {2, 1}))
                  .ok());
  std::ostringstream out;
  absl::Status s = RunSample(*client_, "mnist", args, out);
  ASSERT_TRUE(s.ok()) << s;
  {
    absl::MutexLock lock(&server_.service().mu);
    const hnet::v1::TensorProto& z = server_.service().last_sample.noise().z();
    EXPECT_EQ(z.dtype(), hnet::v1::TensorProto::FLOAT32);
    EXPECT_EQ(std::vector<int64_t>(z.shape().begin(), z.shape().end()),
              (std::vector<int64_t>{2, 1}));
    float second = 0;
    std::memcpy(&second, z.data().data() + 4, 4);
    EXPECT_EQ(second, 0.5f);
  }
  ASSERT_TRUE(
      client::WriteNpy(args.z_file, *client::MakeTensor<double>(std::vector<double>{0.75})).ok());
  s = RunSample(*client_, "mnist", args, out);
  ASSERT_TRUE(s.ok()) << s;
  absl::MutexLock lock(&server_.service().mu);
  EXPECT_EQ(server_.service().last_sample.noise().z().shape_size(), 2);
  EXPECT_EQ(server_.service().last_sample.noise().z().shape(0), 1);
}

TEST_F(CliTest, SampleRefusesZOfAnotherTypeOrWidthNamingZ) {
  SampleArgs args;
  args.z_file = dir_ + "/z.npy";
  args.npz = dir_ + "/w.npz";
  ASSERT_TRUE(client::WriteNpy(args.z_file,
                               *client::MakeTensor<int32_t>(std::vector<int32_t>{1, 2}, {2, 1}))
                  .ok());
  std::ostringstream out;
  absl::Status s = RunSample(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("--z: ", 0), 0u) << s;
  ASSERT_TRUE(client::WriteNpy(args.z_file,
                               *client::MakeTensor<float>(std::vector<float>(3 * 4, 0.5f), {3, 4}))
                  .ok());
  s = RunSample(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("--z: ", 0), 0u) << s;
  EXPECT_NE(s.message().find("z_dim 1"), std::string::npos) << s;
  EXPECT_EQ(server_.service().sample_calls.load(), 0);
  args.z_file = dir_ + "/missing.npy";
  s = RunSample(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message().rfind("--z: ", 0), 0u) << s;
}

TEST_F(CliTest, SampleStreamsWhenTheServerRefusesThatManyNetworksInOneMessage) {
  SampleArgs args;
  args.n = 20;
  args.seed = 5;
  args.return_z = true;
  args.npz = dir_ + "/unary.npz";
  std::ostringstream out;
  ASSERT_TRUE(RunSample(*client_, "mnist", args, out).ok());
  server_.service().max_networks = 5;  // hnet-server --max_networks 5
  args.npz = dir_ + "/streamed.npz";
  std::ostringstream streamed_out;
  absl::Status s = RunSample(*client_, "mnist", args, streamed_out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(streamed_out.str().find("streamed 20 networks"), std::string::npos)
      << streamed_out.str();
  EXPECT_EQ(server_.service().sample_calls.load(), 2);  // the first run, the refused call
  EXPECT_EQ(server_.service().stream_calls.load(), 1);
  EXPECT_EQ(*io::ReadFile(dir_ + "/streamed.npz"), *io::ReadFile(dir_ + "/unary.npz"));
}

TEST_F(CliTest, SampleChecksOutputPathsBeforeCallingTheServer) {
  const std::string file = dir_ + "/file";
  ASSERT_TRUE(io::WriteFile(file, "x").ok());
  struct Case {
    std::string out_dir, npz, pt;
    absl::StatusCode code;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", dir_ + "/nodir/o.npz", "", absl::StatusCode::kFailedPrecondition, "--npz: "},
           {file, "", "", absl::StatusCode::kInvalidArgument, "--out_dir: "},
           {file + "/sub", "", "", absl::StatusCode::kInvalidArgument, "--out_dir: "},
           {"", dir_, "", absl::StatusCode::kInvalidArgument, "--npz: "},
           {"", "", file + "/w.pt", absl::StatusCode::kInvalidArgument, "--pt: "}}) {
    SampleArgs args;
    args.out_dir = c.out_dir;
    args.npz = c.npz;
    args.pt = c.pt;
    std::ostringstream out;
    const absl::Status s = RunSample(*client_, "mnist", args, out);
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_EQ(s.message().rfind(c.message, 0), 0u) << s;
    EXPECT_EQ(CheckSampleOutputs(args), s);
  }
  EXPECT_EQ(server_.service().calls.load(), 0);
  // A directory still to be made, and a file to replace, are fine.
  SampleArgs fine;
  fine.out_dir = dir_ + "/new/layers";
  fine.npz = file;
  EXPECT_TRUE(CheckSampleOutputs(fine).ok());
}

TEST_F(CliTest, PathChecksTheCsvPathBeforeCallingTheServer) {
  PathArgs args;
  args.csv = dir_ + "/nodir/path.csv";
  std::ostringstream out;
  const absl::Status s = RunPath(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message().rfind("--csv: ", 0), 0u) << s;
  EXPECT_EQ(server_.service().calls.load(), 0);
}

TEST_F(CliTest, ClassifyStartsEachBatchDeadlineWhenTheBatchIsSent) {
  client::ClientOptions options = client_->options();
  options.deadline = absl::Seconds(1);
  options.async_threads = 2;
  auto client = *client::Client::Connect(options);
  server_.service().delay = absl::Milliseconds(250);
  ClassifyArgs args;  // 12 batches of 250 ms, 2 at a time: 1.5 s in all, each well in 1 s
  args.images = {WriteIdx("images", 0x08, {12, 2, 2}, std::string(48, '\x10'))};
  args.batch = 1;
  std::ostringstream out;
  const absl::Status s = RunClassify(*client, "mnist", args, out);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(server_.service().classify_calls.load(), 12);
}

TEST_F(CliTest, ClassifyStopsSendingBatchesAfterAnError) {
  client::ClientOptions options = client_->options();
  options.async_threads = 2;
  auto client = *client::Client::Connect(options);
  server_.service().missing_predictions = 1;  // every answer is malformed: INTERNAL
  server_.service().delay = absl::Milliseconds(20);
  ClassifyArgs args;
  args.images = {WriteIdx("images", 0x08, {20, 2, 2}, std::string(80, '\x10'))};
  args.batch = 1;
  std::ostringstream out;
  EXPECT_EQ(RunClassify(*client, "mnist", args, out).code(), absl::StatusCode::kInternal);
  client.reset();  // waits for anything still queued
  EXPECT_LE(server_.service().classify_calls.load(), 2);
}

TEST_F(CliTest, ClassifyConvertsFloat64IdxImagesToFloat32) {
  ClassifyArgs args;
  args.images = {
      WriteIdx("images", 0x0E, {2, 2, 2}, BigEndianDoubles(std::vector<double>(8, 0.5)))};
  std::ostringstream out;
  const absl::Status s = RunClassify(*client_, "mnist", args, out);
  ASSERT_TRUE(s.ok()) << s;
  absl::MutexLock lock(&server_.service().mu);
  const hnet::v1::TensorProto& inputs = server_.service().last_classify.inputs();
  EXPECT_EQ(inputs.dtype(), hnet::v1::TensorProto::FLOAT32);
  float first = 0;
  std::memcpy(&first, inputs.data().data(), 4);
  EXPECT_EQ(first, 0.5f);
}

TEST_F(CliTest, ImageErrorsNameTheFlag) {
  ClassifyArgs args;
  args.images = {WriteIdx("ints", 0x0C, {1, 1, 1}, std::string(4, '\0'))};
  std::ostringstream out;
  absl::Status s = RunClassify(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("--images: ", 0), 0u) << s;
  args.images = {dir_ + "/missing"};
  s = RunClassify(*client_, "mnist", args, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message().rfind("--images: ", 0), 0u) << s;
}

TEST_F(CliTest, ReadMaybeGzipMapsErrorsAndDetectsTruncatedGzip) {
  EXPECT_EQ(ReadMaybeGzip(dir_ + "/absent").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadMaybeGzip(dir_).status().code(), absl::StatusCode::kInvalidArgument);
  const std::string plain = WriteIdx("plain", 0x08, {4000}, std::string(4000, 'q'));
  const std::string gz = dir_ + "/labels.gz";
  ASSERT_EQ(std::system(("gzip -c " + plain + " > " + gz).c_str()), 0);
  std::string bytes = *io::ReadFile(gz);
  ASSERT_TRUE(io::WriteFile(gz, bytes + bytes).ok());  // two members: read as one
  absl::StatusOr<std::string> twice = ReadMaybeGzip(gz);
  ASSERT_TRUE(twice.ok()) << twice.status();
  EXPECT_EQ(*twice, *io::ReadFile(plain) + *io::ReadFile(plain));
  ASSERT_TRUE(io::WriteFile(gz, bytes.substr(0, bytes.size() - 12)).ok());
  absl::StatusOr<std::string> truncated = ReadMaybeGzip(gz);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(truncated.status().message().find("truncated gzip"), std::string::npos)
      << truncated.status();
  absl::StatusOr<client::Tensor> labels = LoadLabels(gz);
  EXPECT_EQ(labels.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(labels.status().message().rfind("--labels: ", 0), 0u) << labels.status();
}

// Root reads any file, so under root the read runs as "nobody".
TEST_F(CliTest, ReadMaybeGzipReportsAnUnreadableFileAsPermissionDenied) {
  const std::string plain = WriteIdx("plain", 0x08, {4}, std::string(4, 'q'));
  std::filesystem::permissions(dir_, std::filesystem::perms::all);  // Traversable by anyone.
  ASSERT_EQ(::chmod(plain.c_str(), 0), 0);
  if (::geteuid() != 0) {
    EXPECT_EQ(ReadMaybeGzip(plain).status().code(), absl::StatusCode::kPermissionDenied);
    return;
  }
  const hnet::testing::AsNobody result = hnet::testing::RunAsNobody([&plain] {
    return ReadMaybeGzip(plain).status().code() == absl::StatusCode::kPermissionDenied;
  });
  if (result == hnet::testing::AsNobody::kUnavailable) GTEST_SKIP() << "cannot become nobody";
  EXPECT_EQ(result, hnet::testing::AsNobody::kPassed) << "not PERMISSION_DENIED";
}

}  // namespace
}  // namespace hnet::cli
