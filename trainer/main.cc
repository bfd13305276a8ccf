// hnet-train: trains a hypernetwork from a config and writes checkpoints.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/hypernetwork_loader.h"
#include "core/log.h"
#include "core/runtime.h"
#include "flags/flags.h"
#include "trainer/config_overrides.h"
#include "trainer/output_path.h"
#include "trainer/trainer.h"
#include "trainer/validation.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(const absl::Status& status) {
  hnet::log::Error("{}", status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hnet-train: train a hypernetwork (Deutsch 2018) and write checkpoints"};
  std::string config_name = "mnist";
  std::string out;
  std::string resume;
  std::string device_flag = "auto";
  std::string data_dir;
  std::string log_level = "info";
  std::vector<std::string> overrides;
  int64_t steps = 0;
  double lambda = 0;
  uint64_t seed = 0;
  int32_t eval_every = 0;
  int32_t checkpoint_every = 0;
  int32_t eval_networks = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int64_t networks_per_pass = 0;
  bool no_progress = false;
  bool no_final_test = false;
  bool overwrite = false;
  app.add_option("--config", config_name,
                 "Shipped config name (" + hnet::core::ShippedConfigNames() + ") or textproto path")
      ->capture_default_str();
  app.add_option("--out", out, "Checkpoint file to write (e.g. runs/mnist.hnet)")->required();
  app.add_option("--resume", resume, "Checkpoint to continue from (its config is used)");
  CLI::Option* steps_flag =
      app.add_option("--steps", steps, "Total training steps (overrides the config)");
  CLI::Option* lambda_flag =
      app.add_option("--lambda", lambda, "Accuracy weight lambda (overrides the config)");
  CLI::Option* seed_flag = app.add_option("--seed", seed, "Random seed (overrides the config)");
  CLI::Option* eval_every_flag =
      app.add_option("--eval_every", eval_every, "Validation report period in steps");
  CLI::Option* checkpoint_every_flag =
      app.add_option("--checkpoint_every", checkpoint_every, "Checkpoint period in steps");
  CLI::Option* eval_networks_flag =
      app.add_option("--eval_networks", eval_networks, "Networks per validation report");
  app.add_option("--set", overrides,
                 "Config override in text format, e.g. --set 'diversity { metric: L1 }'");
  app.add_option("--device", device_flag, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch CPU threads")->capture_default_str();
  app.add_option("--networks_per_pass", networks_per_pass,
                 "Networks per batched target pass (0: all in one pass)");
  app.add_option("--data_dir", data_dir, "Dataset directory (default $HNET_DATA_DIR or data)");
  app.add_option("--log_level", log_level, "debug, info, warn or error");
  app.add_flag("--no_progress", no_progress, "Do not draw the progress bar");
  app.add_flag("--no_final_test", no_final_test, "Skip the test-set report at the end");
  app.add_flag("--overwrite", overwrite,
               "Replace an existing --out (without it only --resume of the same file may)");
  hnet::flags::RequireDecimalIntegers(app);
  CLI11_PARSE(app, argc, argv);
  hnet::log::Init(log_level);
  if (absl::Status s = hnet::trainer::CheckOutputPath("--out", out, overwrite, resume); !s.ok()) {
    if (absl::IsAlreadyExists(s)) {
      return Fail(absl::AlreadyExistsError(
          absl::StrCat(s.message(), ", or --resume ", out, " to continue that run")));
    }
    return Fail(s);
  }

  hnet::v1::TrainingConfig config;
  if (!resume.empty()) {
    // The run's own config travels in its checkpoint.
    auto ckpt = hnet::core::ReadCheckpoint(resume);
    if (!ckpt.ok()) return Fail(ckpt.status());
    if (!ckpt->config().has_toy()) {
      // Before the trainer builds a model of the size the embedded config says.
      auto layout = hnet::core::TargetLayout::Create(ckpt->config().target());
      if (!layout.ok()) return Fail(layout.status());
      absl::Status s = hnet::core::CheckHyperNetworkConfig(*ckpt, *layout, resume);
      if (!s.ok()) return Fail(s);
    }
    config = ckpt->config();
  } else {
    auto loaded = hnet::core::LoadConfig(config_name);
    if (!loaded.ok()) return Fail(loaded.status());
    config = *loaded;
  }
  hnet::trainer::ConfigOverrides given;
  given.fragments = overrides;
  if (steps_flag->count() > 0) given.steps = steps;
  if (lambda_flag->count() > 0) given.lambda = lambda;
  if (seed_flag->count() > 0) given.seed = seed;
  if (eval_every_flag->count() > 0) given.eval_every = eval_every;
  if (checkpoint_every_flag->count() > 0) given.checkpoint_every = checkpoint_every;
  if (eval_networks_flag->count() > 0) given.eval_networks = eval_networks;
  auto resolved = hnet::trainer::ResolveConfig(std::move(config), given);
  if (!resolved.ok()) return Fail(resolved.status());
  config = *std::move(resolved);
  if (threads < 1) return Fail(absl::InvalidArgumentError("--threads must be >= 1"));
  hnet::core::ConfigureRuntime(threads);

  auto parsed_device = hnet::core::ParseDevice(device_flag);
  if (!parsed_device.ok()) return Fail(parsed_device.status());
  const c10::Device device = *parsed_device;

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  hnet::trainer::TrainerOptions options;
  options.config = config;
  options.out_path = out;
  options.resume_path = resume;
  options.data_dir = data_dir;
  options.device = device;
  options.progress = no_progress ? nullptr : stderr;
  options.final_test = !no_final_test;
  options.networks_per_pass = networks_per_pass;
  options.stop = &g_stop;
  hnet::log::Info("training '{}' for {} steps on {} with {} threads", config.name(), config.steps(),
                  device.str(), threads);
  auto result = hnet::trainer::Train(options);
  if (!result.ok()) return Fail(result.status());
  if (result->interrupted) {
    hnet::log::Warn("interrupted at step {}; resume with --resume {}", result->step, out);
    return 130;
  }
  std::cout << "trained " << result->step << " steps (" << result->steps_per_second
            << " steps/s); checkpoint " << out << "\n";
  if (result->test.networks() > 0) {
    std::cout << "test set, " << hnet::trainer::FormatMetrics(result->test) << "\n";
  }
  return 0;
}
