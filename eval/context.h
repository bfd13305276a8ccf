// State shared by the experiments of one evaluation run: options, data, device, report,
// plotter and output folders, plus helpers every experiment uses (seeded generators,
// progress-logged predictions, CSV and figure output).
#ifndef HNET_EVAL_CONTEXT_H_
#define HNET_EVAL_CONTEXT_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/dataset.h"
#include "core/target_forward.h"
#include "core/target_spec.h"
#include "eval/options.h"
#include "eval/plots.h"
#include "eval/report.h"

namespace hnet::eval {

struct EvalContext {
  EvalContext(EvalOptions options, std::string out_dir, c10::Device device);

  EvalOptions options;
  std::string out_dir;      // report.md, results.json, comparison.csv
  std::string data_dir;     // out_dir/data: CSV files
  std::string figures_dir;  // out_dir/figures: PNGs and their gnuplot scripts
  c10::Device device;
  core::Split test;  // MNIST test images (options.test_images of them).
  core::Split ood;   // Fashion-MNIST test images; empty unless OOD detection runs.
  Plotter plotter;
  Report report;

  // A generator seeded from options.seed and `purpose`, so that each experiment's draws are
  // reproducible and independent of which other experiments run.
  at::Generator Generator(absl::string_view purpose) const;

  // Writes data/<name>.csv; returns the path relative to out_dir. Errors name the file.
  absl::StatusOr<std::string> WriteCsv(const std::string& name, const CsvTable& table) const;

  // Renders figures/<name>.png from a gnuplot body; returns the PNG's name, or "" (with a
  // warning logged) when gnuplot is missing or fails, so a figure never aborts a run.
  std::string Figure(const std::string& name, int width, int height, const std::string& body) const;

  // data/<name>.csv quoted for gnuplot, relative to figures_dir (where scripts run).
  std::string DataRef(const std::string& name) const;
};

// Softmax outputs [N, M, K] (CPU float32) of networks on images, in blocks of networks with
// progress lines labelled `what`.
at::Tensor Predict(const core::TargetLayout& layout, const core::WeightBatch& weights,
                   const at::Tensor& images, const std::string& what);

// A set of networks evaluated with the same code: the hypernetwork's pool of generated
// networks or a baseline's independently trained members.
struct MemberSet {
  std::string name;  // Human-readable, e.g. "hypernetwork" or "deep ensemble (5)".
  std::string key;   // File and JSON key prefix, e.g. "hypernet" or "baseline_5".
  core::TargetLayout layout;
  core::WeightBatch weights;  // Raw weights, N members.
  at::Tensor test_probs;      // [N, M, K] on ctx.test.
  int64_t size() const { return weights.front().size(0); }
};

}  // namespace hnet::eval

#endif  // HNET_EVAL_CONTEXT_H_
