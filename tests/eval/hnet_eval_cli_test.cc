// End to end: hnet-eval --quick on a tiny checkpoint made here (and a toy checkpoint and a
// baseline weight ensemble), then the outputs are checked: report sections, JSON and CSV
// that parse, PNG files when gnuplot is present, and clear errors for bad input.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/hypernetwork.h"
#include "core/rng.h"
#include "core/toy.h"
#include "core/weight_ensemble.h"
#include "eval/suite.h"

namespace hnet::eval {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string BinDir() {
  const char* dir = std::getenv("HNET_BIN_DIR");
  return dir != nullptr ? dir : fs::read_symlink("/proc/self/exe").parent_path().string();
}

// The ensemble sizes in data/hypernet_ensemble_draws.csv (column "size") under `out`.
std::set<int64_t> DrawSizes(const fs::path& out) {
  const std::vector<std::string> lines = absl::StrSplit(
      ReadFile(out / "data" / "hypernet_ensemble_draws.csv"), '\n', absl::SkipEmpty());
  std::set<int64_t> sizes;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = absl::StrSplit(lines[i], ',');
    if (cells.size() > 1) sizes.insert(static_cast<int64_t>(std::stod(cells[1])));
  }
  return sizes;
}

bool HaveGnuplot() {
  return std::system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") == 0;
}

// A tiny hypernetwork for the paper's target network, untrained (seeded init).
hnet::v1::TrainingConfig TinyConfig() {
  hnet::v1::TrainingConfig config;
  config.set_name("tiny");
  auto* h = config.mutable_hypernet();
  h->set_z_dim(8);
  h->add_extractor_hidden(16);
  h->set_code_size(4);
  for (int l = 0; l < 4; ++l) h->add_generators()->add_hidden(8);
  config.mutable_diversity()->set_scale_gauge(true);
  return core::WithDefaults(config);
}

class HnetEvalCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat("hnet_eval_cli_test_", ::getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    bin_ = BinDir() + "/hnet-eval";
    ASSERT_EQ(::access(bin_.c_str(), X_OK), 0) << bin_ << " is not built";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteTinyCheckpoint() {
    torch::manual_seed(11);
    const hnet::v1::TrainingConfig config = TinyConfig();
    const core::TargetLayout layout = core::TargetLayout::Create(config.target()).value();
    core::HyperNetwork network(layout, config.hypernet());
    hnet::v1::Checkpoint ckpt;
    ckpt.set_format_version(core::kCheckpointFormatVersion);
    *ckpt.mutable_config() = config;
    ckpt.set_step(0);
    ckpt.set_lambda(config.lambda());
    core::SaveModule(*network, &ckpt);
    const std::string path = (dir_ / "tiny.hnet").string();
    EXPECT_TRUE(core::WriteCheckpoint(path, ckpt).ok());
    // A baseline from three generated networks.
    network->eval();
    torch::NoGradGuard no_grad;
    core::WeightEnsemble ensemble;
    ensemble.spec = config.target();
    ensemble.weights =
        core::FlattenWeights(network->forward(network->SampleZ(3, core::MakeGenerator(3))));
    ensemble.description = "three generated networks (test)";
    EXPECT_TRUE(core::SaveWeightEnsemble((dir_ / "base.hnetw").string(), ensemble).ok());
    return path;
  }

  std::string WriteToyCheckpoint() {
    torch::manual_seed(12);
    hnet::v1::TrainingConfig config;
    config.set_name("toy");
    *config.mutable_toy() = core::ToyDefaults(config.toy());
    config = core::WithDefaults(config);
    core::ToyGenerator generator(
        std::vector<int>(config.toy().hidden().begin(), config.toy().hidden().end()));
    hnet::v1::Checkpoint ckpt;
    ckpt.set_format_version(core::kCheckpointFormatVersion);
    *ckpt.mutable_config() = config;
    core::SaveModule(*generator, &ckpt);
    const std::string path = (dir_ / "toy.hnet").string();
    EXPECT_TRUE(core::WriteCheckpoint(path, ckpt).ok());
    return path;
  }

  // Runs hnet-eval with `args`; returns its exit status, output in *log.
  int Run(const std::string& args, std::string* log) {
    const fs::path log_path = dir_ / "eval.log";
    const std::string cmd =
        absl::StrCat(bin_, " ", args, " --threads 2 > ", log_path.string(), " 2>&1");
    const int status = std::system(cmd.c_str());
    *log = ReadFile(log_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path dir_;
  std::string bin_;
};

TEST_F(HnetEvalCliTest, QuickReportRunsEndToEndAndWritesEveryOutput) {
  const std::string ckpt = WriteTinyCheckpoint();
  const std::string toy = WriteToyCheckpoint();
  const fs::path out = dir_ / "out";
  std::string log;
  ASSERT_EQ(Run(absl::StrCat("--checkpoint ", ckpt, " --toy_checkpoint ", toy, " --baseline ",
                             (dir_ / "base.hnetw").string(), " --out ", out.string(),
                             " --quick --seed 3"),
                &log),
            0)
      << log;
  EXPECT_NE(log.find("ETA"), std::string::npos) << "no progress lines: " << log;

  const std::string md = ReadFile(out / "report.md");
  for (const char* heading :
       {"## Bars", "## Ours vs the paper", "## Accuracy of generated networks",
        "## Ensembles of generated networks", "## Diversity: generated", "## Paths in weight space",
        "## PCA of generated weights", "## Generated filters", "## Adversarial examples: generated",
        "## Calibration: generated", "## Out-of-distribution detection: generated",
        "## Baseline: deep ensemble (3)", "## Toy problem"}) {
    EXPECT_NE(md.find(heading), std::string::npos) << heading << " missing from:\n" << md;
  }
  EXPECT_NE(md.find("99.14 %"), std::string::npos);  // The paper's number sits beside ours.

  google::protobuf::Struct results;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(ReadFile(out / "results.json"), &results).ok());
  const auto& f = results.fields();
  for (const char* key :
       {"run", "hypernet_accuracy", "hypernet_ensembles", "hypernet_diversity", "hypernet_paths",
        "hypernet_pca", "hypernet_adversarial", "hypernet_calibration", "hypernet_ood", "baselines",
        "toy", "comparison", "bars"}) {
    EXPECT_TRUE(f.count(key)) << key;
  }
  const double mean = f.at("hypernet_accuracy").struct_value().fields().at("mean").number_value();
  EXPECT_GE(mean, 0.0);
  EXPECT_LE(mean, 1.0);
  EXPECT_EQ(f.at("hypernet_accuracy").struct_value().fields().at("networks").number_value(), 24);
  EXPECT_GT(f.at("comparison").list_value().values_size(), 20);

  // Every CSV parses: a header and rows of the same width (filter mosaics have no header).
  int csv_files = 0;
  for (const auto& entry : fs::directory_iterator(out / "data")) {
    const std::vector<std::string> lines =
        absl::StrSplit(ReadFile(entry.path()), '\n', absl::SkipEmpty());
    ASSERT_GE(lines.size(), 2u) << entry.path();
    const size_t width = std::count(lines[0].begin(), lines[0].end(), ',');
    for (const std::string& line : lines) {
      EXPECT_EQ(static_cast<size_t>(std::count(line.begin(), line.end(), ',')), width)
          << entry.path() << ": " << line;
    }
    ++csv_files;
  }
  EXPECT_GE(csv_files, 20);

  if (!HaveGnuplot()) GTEST_SKIP() << "gnuplot not installed: PNG checks skipped";
  int pngs = 0;
  for (const char* name :
       {"hypernet_accuracy_histogram", "hypernet_accuracy_vs_size", "paths", "pca_network",
        "pca_layer1_filter1", "filters", "hypernet_adversarial", "hypernet_reliability",
        "hypernet_ood_entropy", "toy", "baseline1_3_adversarial"}) {
    const std::string png = ReadFile(out / "figures" / absl::StrCat(name, ".png"));
    ASSERT_GT(png.size(), 1000u) << name;
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << name;
    EXPECT_NE(md.find(absl::StrCat("figures/", name, ".png")), std::string::npos) << name;
    ++pngs;
  }
  EXPECT_EQ(pngs, 11);
}

TEST_F(HnetEvalCliTest, ShiftTrainedBaselineIsNamedApartFromThePlainOne) {
  const std::string ckpt = WriteTinyCheckpoint();
  auto plain = core::LoadWeightEnsemble((dir_ / "base.hnetw").string());
  ASSERT_TRUE(plain.ok()) << plain.status();
  core::WeightEnsemble shifted = *plain;
  shifted.config.mutable_data()->set_max_shift(2);
  ASSERT_TRUE(core::SaveWeightEnsemble((dir_ / "shifted.hnetw").string(), shifted).ok());
  const fs::path out = dir_ / "out";
  std::string log;
  ASSERT_EQ(Run(absl::StrCat("--checkpoint ", ckpt, " --baseline ", (dir_ / "base.hnetw").string(),
                             " --baseline ", (dir_ / "shifted.hnetw").string(), " --out ",
                             out.string(), " --quick --no_plots --sections baselines,ood"),
                &log),
            0)
      << log;
  const std::string md = ReadFile(out / "report.md");
  EXPECT_NE(md.find("## Baseline: deep ensemble (3)\n"), std::string::npos) << md;
  EXPECT_NE(md.find("## Baseline: deep ensemble (3, shifts 2 px)\n"), std::string::npos) << md;
  // The OOD bar lists both, each under its own name.
  EXPECT_NE(md.find("; deep ensemble (3, shifts 2 px) 0."), std::string::npos) << md;
}

TEST_F(HnetEvalCliTest, SameSeedGivesTheSameResults) {
  const std::string ckpt = WriteTinyCheckpoint();
  std::string log;
  const std::string common = absl::StrCat(
      "--checkpoint ", ckpt, " --quick --no_plots --sections accuracy,ensembles,paths --seed 9");
  ASSERT_EQ(Run(absl::StrCat(common, " --out ", (dir_ / "a").string()), &log), 0) << log;
  ASSERT_EQ(Run(absl::StrCat(common, " --out ", (dir_ / "b").string()), &log), 0) << log;
  EXPECT_EQ(ReadFile(dir_ / "a" / "data" / "paths.csv"),
            ReadFile(dir_ / "b" / "data" / "paths.csv"));
  EXPECT_EQ(ReadFile(dir_ / "a" / "data" / "hypernet_ensemble_draws.csv"),
            ReadFile(dir_ / "b" / "data" / "hypernet_ensemble_draws.csv"));
  // With --no_plots the report says why instead of linking figures.
  const std::string md = ReadFile(dir_ / "a" / "report.md");
  EXPECT_NE(md.find("**Figures not rendered:** figures disabled (--no_plots)"), std::string::npos)
      << md;
}

TEST_F(HnetEvalCliTest, BadInputsFailWithClearErrors) {
  std::string log;
  EXPECT_NE(Run(absl::StrCat("--checkpoint ", (dir_ / "missing.hnet").string(), " --out ",
                             (dir_ / "o").string()),
                &log),
            0);
  EXPECT_NE(log.find("missing.hnet"), std::string::npos) << log;
  const std::string ckpt = WriteTinyCheckpoint();
  EXPECT_NE(Run(absl::StrCat("--checkpoint ", ckpt, " --out ", (dir_ / "o").string(),
                             " --sections accuracy,bogus"),
                &log),
            0);
  EXPECT_NE(log.find("bogus"), std::string::npos) << log;
  // A toy checkpoint where a hypernetwork is expected.
  const std::string toy = WriteToyCheckpoint();
  EXPECT_NE(
      Run(absl::StrCat("--checkpoint ", toy, " --out ", (dir_ / "o").string(), " --quick"), &log),
      0);
  EXPECT_NE(log.find("--toy_checkpoint"), std::string::npos) << log;
}

TEST_F(HnetEvalCliTest, MissingInputFilesFailBeforeAnyWork) {
  const std::string ckpt = WriteTinyCheckpoint();
  const std::string missing_toy = (dir_ / "missing_toy.hnet").string();
  const std::string missing_base = (dir_ / "missing_base.hnetw").string();
  const fs::path out = dir_ / "out";
  const std::string common =
      absl::StrCat("--checkpoint ", ckpt, " --out ", out.string(), " --quick --no_plots");
  std::string log;
  EXPECT_NE(Run(absl::StrCat(common, " --toy_checkpoint ", missing_toy), &log), 0);
  EXPECT_NE(log.find(absl::StrCat("NOT_FOUND: --toy_checkpoint ", missing_toy)), std::string::npos)
      << log;
  EXPECT_EQ(log.find("== accuracy =="), std::string::npos) << "work done before the check: " << log;
  EXPECT_FALSE(fs::exists(out));

  EXPECT_NE(Run(absl::StrCat(common, " --baseline ", (dir_ / "base.hnetw").string(), " --baseline ",
                             missing_base),
                &log),
            0);
  EXPECT_NE(log.find(absl::StrCat("NOT_FOUND: --baseline ", missing_base)), std::string::npos)
      << log;
  EXPECT_EQ(log.find("== accuracy =="), std::string::npos) << "work done before the check: " << log;
  EXPECT_FALSE(fs::exists(out));

  // A file that is there but of the wrong kind fails as early.
  EXPECT_NE(Run(absl::StrCat(common, " --toy_checkpoint ", ckpt), &log), 0);
  EXPECT_NE(log.find("not a toy-problem checkpoint"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out));

  // The library call fails the same way, before reading any data.
  EvalOptions options;
  options.checkpoint = ckpt;
  options.out_dir = out.string();
  options.data_dir = (dir_ / "no_data_here").string();
  options.toy_checkpoint = missing_toy;
  absl::StatusOr<Headline> result = RunEvaluation(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
  EXPECT_NE(result.status().message().find(absl::StrCat("--toy_checkpoint ", missing_toy)),
            std::string::npos)
      << result.status();
  options.toy_checkpoint.clear();
  options.baselines = {missing_base};
  result = RunEvaluation(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
  EXPECT_NE(result.status().message().find(absl::StrCat("--baseline ", missing_base)),
            std::string::npos)
      << result.status();
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(HnetEvalCliTest, EnsembleSizeBelowTheDefaultSizesRuns) {
  const std::string ckpt = WriteTinyCheckpoint();
  const std::string common = absl::StrCat(
      "--checkpoint ", ckpt, " --no_plots --sections ensembles --ensembles 1 --test_images 50");
  std::string log;
  // Without --ensemble_sizes: the default sizes up to --ensemble_size, and it itself.
  ASSERT_EQ(Run(absl::StrCat(common, " --ensemble_size 7 --out ", (dir_ / "a").string()), &log), 0)
      << log;
  EXPECT_EQ(DrawSizes(dir_ / "a"), (std::set<int64_t>{1, 5, 7}));
  // The same with --quick's sizes (1, 2, 4, 8).
  ASSERT_EQ(
      Run(absl::StrCat(common, " --quick --ensemble_size 6 --out ", (dir_ / "b").string()), &log),
      0)
      << log;
  EXPECT_EQ(DrawSizes(dir_ / "b"), (std::set<int64_t>{1, 2, 4, 6}));
  // Sizes given explicitly are taken as given: one above --ensemble_size is an error.
  EXPECT_NE(Run(absl::StrCat(common, " --ensemble_size 7 --ensemble_sizes 1,10 --out ",
                             (dir_ / "c").string()),
                &log),
            0);
  EXPECT_NE(log.find("--ensemble_sizes entry 10"), std::string::npos) << log;
}

}  // namespace
}  // namespace hnet::eval
