#include "eval/context.h"

#include <torch/torch.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/evaluation.h"
#include "core/log.h"
#include "core/rng.h"
#include "eval/progress.h"

namespace hnet::eval {
namespace {

namespace fs = std::filesystem;

// FNV-1a, so purposes map to fixed, well-spread seed offsets on every platform.
uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

EvalContext::EvalContext(EvalOptions options_in, std::string out, c10::Device device_in)
    : options(std::move(options_in)),
      out_dir(std::move(out)),
      data_dir((fs::path(out_dir) / "data").string()),
      figures_dir((fs::path(out_dir) / "figures").string()),
      device(device_in),
      plotter(figures_dir, options.plots, options.defer_plots) {}

at::Generator EvalContext::Generator(absl::string_view purpose) const {
  return core::MakeGenerator(options.seed * 0x9E3779B97F4A7C15ull ^ Fnv1a(purpose));
}

absl::StatusOr<std::string> EvalContext::WriteCsv(const std::string& name,
                                                  const CsvTable& table) const {
  const std::string file = absl::StrCat(name, ".csv");
  if (absl::Status s = table.Write((fs::path(data_dir) / file).string()); !s.ok()) return s;
  return absl::StrCat("data/", file);
}

std::string EvalContext::Figure(const std::string& name, int width, int height,
                                const std::string& body) const {
  if (!plotter.available()) return "";
  auto png = plotter.Render(name, width, height, body);
  if (!png.ok()) {
    log::Warn("figure {} skipped: {}", name, std::string(png.status().message()));
    return "";
  }
  return *png;
}

std::string EvalContext::DataRef(const std::string& name) const {
  // Scripts run from figures_dir, a sibling of data_dir.
  return GnuplotQuote(absl::StrCat("../data/", name, ".csv"));
}

at::Tensor Predict(const core::TargetLayout& layout, const core::WeightBatch& weights,
                   const at::Tensor& images, const std::string& what) {
  const int64_t n = weights.front().size(0);
  const int64_t block = 20;
  at::Tensor out = torch::empty({n, images.size(0), layout.num_classes()}, torch::kFloat32);
  Progress progress(absl::StrCat(what, " (networks on ", images.size(0), " images)"), n);
  for (int64_t i = 0; i < n; i += block) {
    const int64_t b = std::min(block, n - i);
    out.narrow(0, i, b).copy_(
        core::PredictProbabilities(layout, core::SliceNetworks(weights, i, i + b), images));
    progress.Update(i + b);
  }
  return out;
}

}  // namespace hnet::eval
