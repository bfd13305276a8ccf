// hnet-baseline: trains N conventional target networks (a deep ensemble; N = 1 is one
// conventionally trained network) in one batched pass and writes them as a weight ensemble.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/config.h"
#include "core/evaluation.h"
#include "core/log.h"
#include "core/runtime.h"
#include "flags/flags.h"
#include "trainer/baseline_trainer.h"
#include "trainer/output_path.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(const absl::Status& status) {
  hnet::log::Error("{}", status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "hnet-baseline: train N conventional target networks (cross-entropy, Adam) in one batched "
      "pass and write them as a weight ensemble (.hnetw) for hnet-eval"};
  hnet::trainer::BaselineOptions options;
  std::string config_name = "mnist";
  std::vector<std::string> overrides;
  std::string device_flag = "auto";
  std::string log_level = "info";
  uint64_t seed = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool no_progress = false;
  bool no_final_test = false;
  bool no_validation = false;
  bool overwrite = false;
  app.add_option("--out", options.out_path,
                 "Weight-ensemble file to write (e.g. runs/baseline-20.hnetw)")
      ->required();
  app.add_option("--config", config_name,
                 "Shipped config or textproto path: target, dataset, data.max_shift, seed")
      ->capture_default_str();
  app.add_option("--set", overrides,
                 "Config override in text format, e.g. --set 'data { dataset: FASHION_MNIST }'");
  app.add_option("--ensemble_size", options.ensemble_size, "Networks N trained together")
      ->capture_default_str();
  app.add_option("--epochs", options.epochs, "Passes over the training set")->capture_default_str();
  app.add_option("--batch_size", options.batch_size, "Images per network per step")
      ->capture_default_str();
  app.add_option("--learning_rate", options.learning_rate, "Initial Adam learning rate")
      ->capture_default_str();
  app.add_option("--lr_decay", options.lr_decay_per_epoch,
                 "Learning rate multiplied by this per epoch (applied smoothly every step)")
      ->capture_default_str();
  CLI::Option* seed_flag = app.add_option("--seed", seed, "Random seed (overrides the config's)");
  app.add_option("--first_network", options.first_network,
                 "Seed-stream index of the first network (train an ensemble in pieces)")
      ->capture_default_str();
  app.add_option("--train_subset", options.train_subset,
                 "Train on the first K training images only (0: all)")
      ->capture_default_str();
  app.add_option("--device", device_flag, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch CPU threads")->capture_default_str();
  app.add_option("--networks_per_pass", options.networks_per_pass,
                 "Networks per batched target pass (0: all in one pass)");
  app.add_option("--data_dir", options.data_dir,
                 "Dataset directory (default $HNET_DATA_DIR or data)");
  app.add_option("--log_level", log_level, "debug, info, warn or error");
  app.add_flag("--no_progress", no_progress, "Do not draw the progress bar");
  app.add_flag("--no_validation", no_validation, "Skip the per-epoch validation accuracy");
  app.add_flag("--no_final_test", no_final_test, "Skip the test-set accuracies at the end");
  app.add_flag("--overwrite", overwrite, "Replace an existing --out");
  hnet::flags::RequireDecimalIntegers(app);
  CLI11_PARSE(app, argc, argv);
  hnet::log::Init(log_level);
  if (absl::Status s = hnet::trainer::CheckOutputPath("--out", options.out_path, overwrite);
      !s.ok()) {
    return Fail(s);
  }

  auto loaded = hnet::core::LoadConfig(config_name);
  if (!loaded.ok()) return Fail(loaded.status());
  hnet::v1::TrainingConfig config = *loaded;
  for (const std::string& text : overrides) {
    if (absl::Status s = hnet::core::ApplyConfigOverride(text, &config); !s.ok()) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("--set '", text, "': ", s.message())));
    }
  }
  if (seed_flag->count() > 0) config.set_seed(seed);
  options.config = hnet::core::WithDefaults(config);
  if (absl::Status s = hnet::trainer::ValidateBaselineOptions(options); !s.ok()) return Fail(s);
  if (threads < 1) return Fail(absl::InvalidArgumentError("--threads must be >= 1"));
  hnet::core::ConfigureRuntime(threads);

  auto device = hnet::core::ParseDevice(device_flag);
  if (!device.ok()) return Fail(device.status());
  options.device = *device;
  options.progress = no_progress ? nullptr : stderr;
  options.validate_every_epoch = !no_validation;
  options.final_test = !no_final_test;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  options.stop = &g_stop;
  hnet::log::Info("training {} baseline network(s) for {} epochs on {} with {} threads",
                  options.ensemble_size, options.epochs, options.device.str(), threads);

  auto result = hnet::trainer::TrainBaselines(options);
  if (!result.ok()) return Fail(result.status());
  if (result->interrupted) {
    hnet::log::Warn("interrupted at step {}; the networks as they were are in {}", result->steps,
                    options.out_path);
    return 130;
  }
  double train_seconds = 0;
  for (const auto& epoch : result->epochs) train_seconds += epoch.seconds;
  std::cout << absl::StrFormat("trained %d network(s), %d epochs, %d steps, %.1f s per epoch; %s\n",
                               options.ensemble_size, options.epochs, result->steps,
                               train_seconds / std::max<size_t>(1, result->epochs.size()),
                               options.out_path);
  if (!result->epochs.empty() && !result->epochs.back().validation_accuracy.empty()) {
    const auto& last = result->epochs.back();
    const auto s = hnet::core::Summarize(last.validation_accuracy);
    std::cout << absl::StrFormat(
        "validation: mean %.2f%% (min %.2f, max %.2f), ensemble (mean probability) %.2f%%\n",
        100 * s.mean, 100 * s.min, 100 * s.max, 100 * last.validation_ensemble_accuracy);
  }
  if (!result->test_accuracy.empty()) {
    std::cout << "test accuracy per network (%):";
    for (double a : result->test_accuracy) std::cout << absl::StrFormat(" %.2f", 100 * a);
    const auto s = hnet::core::Summarize(result->test_accuracy);
    std::cout << absl::StrFormat(
        "\ntest: mean %.2f%% (min %.2f, max %.2f, sd %.2f); ensemble of %d: mean probability "
        "%.2f%%, majority vote %.2f%%\n",
        100 * s.mean, 100 * s.min, 100 * s.max, 100 * s.std, options.ensemble_size,
        100 * result->test_ensemble_accuracy, 100 * result->test_majority_vote_accuracy);
  }
  return 0;
}
