// hnet-eval: reproduces the paper's section-4 experiments on a checkpoint and writes a
// Markdown report with figures and data (see docs/evaluation.md).
#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/log.h"
#include "core/runtime.h"
#include "eval/suite.h"
#include "flags/flags.h"

int main(int argc, char** argv) {
  CLI::App app{"hnet-eval: the paper's section-4 experiments, figures and a report"};
  hnet::eval::EvalOptions o;
  std::string sections = "all";
  std::string log_level = "info";
  bool quick = false;
  bool no_plots = false;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int64_t seed = static_cast<int64_t>(o.seed);
  std::string ensemble_sizes;
  app.add_option("--checkpoint", o.checkpoint, "Hypernetwork checkpoint (*.hnet)")->required();
  app.add_option("--out", o.out_dir, "Output folder (report.md, results.json, data/, figures/)")
      ->required();
  app.add_option("--baseline", o.baselines,
                 "Weight ensemble (*.hnetw) to evaluate alike; repeatable");
  app.add_option("--toy_checkpoint", o.toy_checkpoint, "Toy-problem checkpoint for Fig. 1");
  app.add_option("--data_dir", o.data_dir, "Dataset directory (default $HNET_DATA_DIR or data)");
  app.add_option("--device", o.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch CPU threads")->capture_default_str();
  app.add_option("--seed", seed, "Seed of every random draw")->capture_default_str();
  app.add_flag("--quick", quick,
               "Scale everything down (CI, smoke tests); sizes given explicitly, anywhere on "
               "the command line, still apply");
  app.add_option(
         "--sections", sections,
         "Comma-separated experiments or 'all': " + absl::StrJoin(hnet::eval::AllSections(), ","))
      ->capture_default_str();
  app.add_option("--networks", o.networks, "Generated networks (histogram, diversity, PCA)")
      ->capture_default_str();
  app.add_option("--ensembles", o.ensembles, "Independent ensembles")->capture_default_str();
  app.add_option("--ensemble_size", o.ensemble_size, "Networks per ensemble")
      ->capture_default_str();
  app.add_option("--ensemble_sizes", ensemble_sizes,
                 "Comma-separated sizes for accuracy vs size (default: those of "
                 "1,5,10,50,100,200 up to --ensemble_size, and --ensemble_size)");
  app.add_option("--path_pairs", o.path_pairs, "Random pairs for paths")->capture_default_str();
  app.add_option("--path_points", o.path_points, "Points per path")->capture_default_str();
  app.add_option("--path_images", o.path_images, "Test images for paths (0: all used)")
      ->capture_default_str();
  app.add_option("--adversarial_images", o.adversarial_images, "Test images attacked (0: all)")
      ->capture_default_str();
  app.add_option("--adversarial_ensemble", o.adversarial_ensemble, "Attacked ensemble's size")
      ->capture_default_str();
  app.add_option("--adversarial_epsilon_steps", o.adversarial_epsilon_steps,
                 "Perturbations 0, 2, 4, .../255 (30: up to 58/255)")
      ->capture_default_str();
  app.add_option("--uncertainty_members", o.uncertainty_members,
                 "Ensemble size for calibration and OOD")
      ->capture_default_str();
  app.add_option("--test_images", o.test_images, "MNIST test images (0: all)")
      ->capture_default_str();
  app.add_option("--ood_images", o.ood_images, "Fashion-MNIST test images (0: all)")
      ->capture_default_str();
  app.add_option("--pca_components", o.pca_components, "Components in PCA scatter matrices")
      ->capture_default_str();
  app.add_flag("--no_plots", no_plots, "Write data only, no gnuplot figures");
  app.add_flag("--defer_plots", o.defer_plots,
               "Write the gnuplot scripts without running gnuplot (render them later from "
               "figures/: for f in *.gp; do gnuplot \"$f\"; done)");
  app.add_option("--log_level", log_level, "debug, info, warn or error");
  hnet::flags::RequireDecimalIntegers(app);
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    const hnet::eval::EvalOptions scaled = hnet::eval::QuickOptions(hnet::eval::EvalOptions{});
    // Options not given on the command line take the quick values; given ones keep theirs.
    auto pick = [&app](const char* flag, auto& field, const auto& q) {
      if (app.count(flag) == 0) field = q;
    };
    pick("--networks", o.networks, scaled.networks);
    pick("--ensembles", o.ensembles, scaled.ensembles);
    pick("--ensemble_size", o.ensemble_size, scaled.ensemble_size);
    pick("--ensemble_sizes", o.ensemble_sizes, scaled.ensemble_sizes);
    pick("--path_pairs", o.path_pairs, scaled.path_pairs);
    pick("--path_points", o.path_points, scaled.path_points);
    pick("--adversarial_images", o.adversarial_images, scaled.adversarial_images);
    pick("--adversarial_ensemble", o.adversarial_ensemble, scaled.adversarial_ensemble);
    pick("--adversarial_epsilon_steps", o.adversarial_epsilon_steps,
         scaled.adversarial_epsilon_steps);
    pick("--uncertainty_members", o.uncertainty_members, scaled.uncertainty_members);
    pick("--test_images", o.test_images, scaled.test_images);
    pick("--ood_images", o.ood_images, scaled.ood_images);
  }
  hnet::log::Init(log_level);
  auto fail = [](const absl::Status& status) {
    hnet::log::Error("{}", status.ToString());
    return 1;
  };
  if (ensemble_sizes.empty()) {
    // Not given: the default (or --quick) sizes that fit --ensemble_size, and --ensemble_size.
    o.ensemble_sizes = hnet::eval::FitEnsembleSizes(o.ensemble_sizes, o.ensemble_size);
  } else {
    o.ensemble_sizes.clear();
    for (absl::string_view part : absl::StrSplit(ensemble_sizes, ',', absl::SkipEmpty())) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(part, &v)) {
        return fail(absl::InvalidArgumentError(
            absl::StrCat("--ensemble_sizes: '", part, "' is not an integer")));
      }
      o.ensemble_sizes.push_back(v);
    }
  }
  if (sections != "all") {
    for (absl::string_view part : absl::StrSplit(sections, ',', absl::SkipEmpty())) {
      o.sections.insert(std::string(part));
    }
  }
  if (seed < 0) return fail(absl::InvalidArgumentError("--seed must be >= 0"));
  o.seed = static_cast<uint64_t>(seed);
  o.plots = !no_plots;
  if (threads < 1) return fail(absl::InvalidArgumentError("--threads must be >= 1"));
  std::vector<std::string> args(argv, argv + argc);
  o.command_line = absl::StrJoin(args, " ");
  hnet::core::ConfigureRuntime(threads);
  auto result = hnet::eval::RunEvaluation(o);
  if (!result.ok()) return fail(result.status());
  std::cout << "report: " << o.out_dir << "/report.md\n";
  return 0;
}
