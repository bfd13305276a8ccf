#include "eval/suite.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/dataset.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/torch_status.h"
#include "core/weight_ensemble.h"
#include "eval/context.h"
#include "eval/models.h"

namespace hnet::eval {
namespace {

namespace fs = std::filesystem;

core::Split Head(const core::Split& split, int64_t n) {
  if (n <= 0 || n >= split.size()) return split;
  return {split.images.narrow(0, 0, n).contiguous(), split.labels.narrow(0, 0, n).contiguous()};
}

// OK when `path` (given as --`flag`) is a regular file that can be opened for reading;
// NotFound naming the flag and the path when it does not exist.
absl::Status CheckInputFile(const std::string& flag, const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return absl::NotFoundError(absl::StrCat("--", flag, " ", path, ": no such file"));
  }
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat("--", flag, " ", path, ": ", ec.message()));
  }
  if (fs::is_directory(status)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", path, ": is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return absl::PermissionDeniedError(
        absl::StrCat("--", flag, " ", path, ": cannot be opened for reading"));
  }
  return absl::OkStatus();
}

// The inputs besides the main checkpoint, read once up front.
struct Inputs {
  std::vector<core::WeightEnsemble> baselines;  // One per --baseline, in order.
  std::optional<ToyModel> toy;                  // Set when the toy section runs with a path.
};

// Checks every input file the selected sections will read, before any work is done, so that a
// wrong path fails the run at once instead of after hours of experiments. The toy checkpoint
// and the baselines are small: they are read in full here (format errors fail early too) and
// handed to their sections, so each file is read once.
absl::StatusOr<Inputs> LoadInputs(const EvalOptions& options) {
  if (absl::Status s = CheckInputFile("checkpoint", options.checkpoint); !s.ok()) return s;
  Inputs inputs;
  if (options.Runs("baselines")) {
    for (const std::string& path : options.baselines) {
      if (absl::Status s = CheckInputFile("baseline", path); !s.ok()) return s;
      auto ensemble = core::LoadWeightEnsemble(path);
      if (!ensemble.ok()) {
        return absl::Status(ensemble.status().code(),
                            absl::StrCat("--baseline: ", ensemble.status().message()));
      }
      inputs.baselines.push_back(*std::move(ensemble));
    }
  }
  if (options.Runs("toy") && !options.toy_checkpoint.empty()) {
    if (absl::Status s = CheckInputFile("toy_checkpoint", options.toy_checkpoint); !s.ok()) {
      return s;
    }
    auto toy = LoadToy(options.toy_checkpoint);
    if (!toy.ok()) {
      if (absl::StrContains(toy.status().message(), "--toy_checkpoint")) return toy.status();
      return absl::Status(toy.status().code(),
                          absl::StrCat("--toy_checkpoint: ", toy.status().message()));
    }
    inputs.toy = *std::move(toy);
  }
  return inputs;
}

std::string Preamble(const EvalContext& ctx, const HypernetModel& model) {
  const EvalOptions& o = ctx.options;
  std::string md = absl::StrFormat(
      "Checkpoint `%s`: config '%s', step %d, lambda %g, %d weights per target network. "
      "Device %s, seed %d.\n\n",
      o.checkpoint, model.config.name(), model.step, model.lambda, model.layout.weight_count(),
      ctx.device.str(), o.seed);
  if (!o.command_line.empty())
    absl::StrAppend(&md, "Command:\n\n```\n", o.command_line, "\n```\n\n");
  absl::StrAppendFormat(
      &md,
      "Settings: %d networks; %d ensembles of %d (sizes %s); %d paths x %d points on %s test "
      "images; adversarial "
      "on %s test images with an ensemble of %d; calibration and OOD ensembles of %d; %d MNIST "
      "test images%s.\n\n",
      o.networks, o.ensembles, o.ensemble_size, absl::StrJoin(o.ensemble_sizes, ", "), o.path_pairs,
      o.path_points, o.path_images > 0 ? absl::StrCat(o.path_images) : "all",
      o.adversarial_images > 0 ? absl::StrCat(o.adversarial_images) : "all", o.adversarial_ensemble,
      o.uncertainty_members, ctx.test.size(),
      ctx.ood.size() > 0 ? absl::StrCat(", ", ctx.ood.size(), " Fashion-MNIST test images") : "");
  if (ctx.plotter.deferred()) {
    md +=
        "Figures were written as gnuplot scripts (`--defer_plots`) and drawn afterwards with "
        "`cd figures && for f in *.gp; do gnuplot \"$f\"; done`.\n\n";
  } else if (!ctx.plotter.available()) {
    absl::StrAppend(&md, "**Figures not rendered:** ", ctx.plotter.unavailable_reason(), ".\n\n");
  }
  md +=
      "The paper evaluates on MNIST's validation set; this report uses the test set (the "
      "hypernetwork never saw it during training or model selection). Files: `results.json` "
      "(every number), `comparison.csv` (the table below), `data/*.csv`, `figures/*.png` with "
      "their gnuplot scripts `figures/*.gp`.\n\n";
  return md;
}

}  // namespace

void AddBars(EvalContext& ctx, const Headline& h) {
  const bool high_lambda = h.lambda >= 1e5 * 0.999;
  const bool paper_lambda = std::abs(h.lambda - 1e3) < 1e-6;
  if (h.mean_single) {
    ctx.report.AddBar({"lambda = 1e5: mean single-network accuracy", ">= 99.0 %",
                       Percent(*h.mean_single),
                       high_lambda ? (*h.mean_single >= kTargetSingle1e5 ? "met" : "not met")
                                   : absl::StrFormat("n/a (checkpoint lambda = %g)", h.lambda)});
  }
  if (h.ensemble_vote) {
    const bool full = h.ensembles >= 20 && h.ensemble_size >= 200;
    std::string status;
    if (!paper_lambda) {
      status = absl::StrFormat("n/a (checkpoint lambda = %g)", h.lambda);
    } else {
      status = h.ensemble_vote->first >= kTargetEnsembleVote ? "met" : "not met";
      if (!full) {
        absl::StrAppend(&status, absl::StrFormat(" (%d x %d, not the full 20 x 200)", h.ensembles,
                                                 h.ensemble_size));
      }
    }
    ctx.report.AddBar({"lambda = 1e3: ensembles, majority vote",
                       ">= 99.35 % (paper 99.14 %, MNFG 99.28 %)",
                       PercentMeanSd(h.ensemble_vote->first, h.ensemble_vote->second), status});
  }
  if (h.path_interpolated_min && h.path_direct_min) {
    const bool met = *h.path_interpolated_min > *h.path_direct_min &&
                     *h.path_interpolated_min >= *h.path_endpoint_mean - 0.02;
    ctx.report.AddBar(
        {"paths: interpolated stays high, direct dips",
         "interpolated min within 2 points of the end points; direct min below it",
         absl::StrFormat("end points %s, interpolated min %s, direct min %s",
                         Percent(*h.path_endpoint_mean), Percent(*h.path_interpolated_min),
                         Percent(*h.path_direct_min)),
         met ? "met" : "not met"});
  }
  if (h.adversarial) {
    ctx.report.AddBar({"adversarial: ensemble below the single network",
                       "mean targeted success over eps > 0: ensemble < single",
                       absl::StrFormat("single %s, ensemble %s", Percent(h.adversarial->first),
                                       Percent(h.adversarial->second)),
                       h.adversarial->second < h.adversarial->first ? "met" : "not met"});
  }
  if (h.ood_auroc) {
    std::string baselines;
    for (const auto& [name, auroc] : h.baseline_ood_auroc) {
      absl::StrAppendFormat(&baselines, "; %s %.4f", name, auroc);
    }
    ctx.report.AddBar({"OOD AUROC next to the deep ensemble's",
                       "reported side by side (entropy of the mean prediction)",
                       absl::StrFormat("hypernetwork %.4f%s", *h.ood_auroc,
                                       baselines.empty() ? "; no baseline given" : baselines),
                       "reported"});
  }
}

absl::StatusOr<Headline> RunEvaluation(const EvalOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  auto device = core::ParseDevice(options.device);
  if (!device.ok()) return device.status();
  auto inputs = LoadInputs(options);
  if (!inputs.ok()) return inputs.status();
  std::error_code ec;
  for (const char* sub : {"", "data", "figures"}) {
    fs::create_directories(fs::path(options.out_dir) / sub, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("--out ", options.out_dir, ": cannot create ", sub, ": ", ec.message()));
    }
  }
  EvalContext ctx(options, options.out_dir, *device);
  if (options.plots && !ctx.plotter.available()) {
    log::Warn("{}", ctx.plotter.unavailable_reason());
  }
  const std::string data_dir = options.data_dir.empty() ? core::DefaultDataDir() : options.data_dir;
  auto mnist = core::LoadTestSplit(data_dir, core::DatasetKind::kMnist);
  if (!mnist.ok()) return mnist.status();
  ctx.test = Head(*mnist, options.test_images);
  if (options.Runs("ood")) {
    auto fashion = core::LoadTestSplit(data_dir, core::DatasetKind::kFashionMnist);
    if (!fashion.ok()) {
      return absl::Status(fashion.status().code(),
                          absl::StrCat(fashion.status().message(),
                                       " (OOD detection needs Fashion-MNIST; leave 'ood' out of "
                                       "--sections to run without it)"));
    }
    ctx.ood = Head(*fashion, options.ood_images);
  }
  auto model = LoadHypernet(options.checkpoint, *device);
  if (!model.ok()) return model.status();
  Headline headline;
  headline.lambda = model->lambda;
  ctx.report.SetTitle(
      absl::StrCat("hnet evaluation: ", fs::path(options.checkpoint).filename().string()));
  ctx.report.AddPreamble(Preamble(ctx, *model));
  Json& run = ctx.report.data().Set("run", Json::Object());
  run.Set("checkpoint", options.checkpoint);
  run.Set("step", model->step);
  run.Set("lambda", model->lambda);
  run.Set("seed", static_cast<int64_t>(options.seed));
  run.Set("device", ctx.device.str());
  run.Set("test_images", ctx.test.size());
  run.Set("command", options.command_line);
  run.Set("figures", ctx.plotter.available());
  log::Info("evaluating {} (step {}, lambda {}) on {}; output in {}", options.checkpoint,
            model->step, model->lambda, ctx.device.str(), options.out_dir);

  MemberSet pool;
  pool.name = "generated networks";
  pool.key = "hypernet";
  pool.layout = model->layout;
  bool needs_pool = false;
  for (const char* s :
       {"accuracy", "diversity", "pca", "filters", "adversarial", "calibration", "ood"}) {
    needs_pool = needs_pool || options.Runs(s);
  }
  if (needs_pool) {
    absl::Status s = core::TorchCall("generating the network pool", [&] {
      at::Generator generator = ctx.Generator("pool");
      pool.weights = Generate(*model, SampleZ(*model, options.networks, generator));
      pool.test_probs = Predict(model->layout, pool.weights, ctx.test.images, "generated networks");
    });
    if (!s.ok()) return s;
  }
  auto step = [&](const std::string& section, const std::function<absl::Status()>& fn) {
    if (!options.Runs(section)) return absl::OkStatus();
    log::Info("== {} ==", section);
    absl::Status s = fn();
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat(section, ": ", s.message()));
    return absl::OkStatus();
  };
  std::vector<std::pair<std::string, std::function<absl::Status()>>> steps = {
      {"accuracy", [&] { return RunAccuracy(ctx, pool, &headline); }},
      {"ensembles", [&] { return RunEnsembles(ctx, *model, &headline); }},
      {"diversity", [&] { return RunDiversity(ctx, pool, &*model); }},
      {"paths", [&] { return RunPaths(ctx, *model, &headline); }},
      {"pca", [&] { return RunPca(ctx, *model, pool); }},
      {"filters", [&] { return RunFilters(ctx, *model, pool); }},
      {"adversarial", [&] { return RunAdversarial(ctx, pool, &headline); }},
      {"calibration", [&] { return RunCalibration(ctx, pool); }},
      {"ood",
       [&] {
         double auroc = 0;
         absl::Status s = RunOod(ctx, pool, &auroc);
         if (s.ok()) headline.ood_auroc = auroc;
         return s;
       }},
      {"baselines",
       [&] {
         for (size_t i = 0; i < inputs->baselines.size(); ++i) {
           absl::Status s = RunBaseline(ctx, options.baselines[i], inputs->baselines[i],
                                        static_cast<int>(i + 1), &headline);
           if (!s.ok()) return s;
         }
         if (options.baselines.empty()) {
           ctx.report.AddSection("Baselines", "No --baseline given: not evaluated.\n");
         }
         return absl::OkStatus();
       }},
      {"toy",
       [&] {
         if (!inputs->toy.has_value()) {
           ctx.report.AddSection("Toy problem (paper 4.1, Fig. 1)",
                                 "No --toy_checkpoint given: not evaluated.\n");
           return absl::OkStatus();
         }
         return RunToy(ctx, *inputs->toy);
       }},
  };
  for (auto& [section, fn] : steps) {
    if (absl::Status s = step(section, fn); !s.ok()) return s;
  }
  AddBars(ctx, headline);
  if (absl::Status s = ctx.report.Write(options.out_dir); !s.ok()) return s;
  log::Info("report written to {}", (fs::path(options.out_dir) / "report.md").string());
  return headline;
}

}  // namespace hnet::eval
