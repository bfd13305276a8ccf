// The toy problem's figure (paper Fig. 1): the generator's 1-D curve of points over the 2-D
// Gaussian mixture, and the mixture value and nearest-neighbour distance along it.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/torch_status.h"
#include "eval/experiments.h"

namespace hnet::eval {
namespace {

// A rainbow colour for s in [0, 1] as 0xRRGGBB (gnuplot's `lc rgb variable`).
double HueColor(double s) {
  const double h = 5.0 * std::clamp(s, 0.0, 1.0);  // Red .. magenta over 5/6 of the wheel.
  const int i = static_cast<int>(h);
  const double f = h - i;
  double r = 0, g = 0, b = 0;
  switch (i) {
    case 0:
      r = 1;
      g = f;
      break;
    case 1:
      r = 1 - f;
      g = 1;
      break;
    case 2:
      g = 1;
      b = f;
      break;
    case 3:
      g = 1 - f;
      b = 1;
      break;
    case 4:
      r = f;
      b = 1;
      break;
    default:
      r = 1;
      b = 1;
      break;
  }
  auto c = [](double v) { return static_cast<int>(std::lround(v * 200)); };
  return static_cast<double>((c(r) << 16) | (c(g) << 8) | c(b));
}

}  // namespace

absl::Status RunToy(EvalContext& ctx, const ToyModel& model) {
  core::ToyGenerator generator = model.generator;  // Shares the module; forward() is non-const.
  return core::TorchCall("toy figure", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    const int64_t n = 400;
    at::Tensor z = torch::linspace(-1, 1, n).unsqueeze(1);
    at::Tensor y = generator->forward(z);
    at::Tensor value = model.mixture.Value(y);
    at::Tensor dist = torch::cdist(y, y) + torch::diag(torch::full({n}, INFINITY));
    at::Tensor nearest = std::get<0>(dist.min(1));
    at::Tensor near_peak =
        std::get<0>(torch::cdist(model.mixture.means, y).min(1)).le(model.mixture.sigmas);
    const int peaks = static_cast<int>(near_peak.sum().item<int64_t>());
    const double mean_value = value.mean().item<double>();
    CsvTable points({"z", "x", "y", "mixture", "nearest_distance", "color"});
    for (int64_t i = 0; i < n; ++i) {
      points.AddRow({z[i][0].item<double>(), y[i][0].item<double>(), y[i][1].item<double>(),
                     value[i].item<double>(), nearest[i].item<double>(),
                     HueColor(static_cast<double>(i) / (n - 1))});
    }
    auto csv = ctx.WriteCsv("toy_path", points);
    if (!csv.ok()) return csv.status();
    const double lo = std::min(-7.0, y.min().item<double>() - 1);
    const double hi = std::max(7.0, y.max().item<double>() + 1);
    const int64_t g = 161;
    at::Tensor axis = torch::linspace(lo, hi, g);
    at::Tensor gx = axis.repeat({g});
    at::Tensor gy = axis.repeat_interleave(g);
    at::Tensor grid_value = model.mixture.Value(torch::stack({gx, gy}, 1));
    CsvTable grid({"x", "y", "mixture"});
    for (int64_t i = 0; i < g * g; ++i) {
      grid.AddRow({gx[i].item<double>(), gy[i].item<double>(), grid_value[i].item<double>()});
    }
    if (auto s = ctx.WriteCsv("toy_mixture", grid); !s.ok()) return s.status();
    const std::string p = ctx.DataRef("toy_path"), m = ctx.DataRef("toy_mixture");
    const std::string png = ctx.Figure(
        "toy", 1300, 600,
        absl::StrFormat(
            "set multiplot layout 1,2 title 'Toy problem: 400 generated points for z uniformly "
            "spaced in [-1, 1]'\n"
            "set title '(a) generated points over the mixture'\nset size ratio -1\nunset key\n"
            "set xrange [%g:%g]\nset yrange [%g:%g]\nset palette gray negative\nset cblabel "
            "'mixture value'\nplot %s skip 1 u 1:2:3 w image, %s skip 1 u 2:3:6 w p pt 7 ps 0.6 "
            "lc rgb variable\n"
            "set size noratio\nset autoscale\nunset cblabel\nunset colorbox\n"
            "set title '(b) along the path'\nset xlabel 'z'\nset ylabel 'mixture value'\nset "
            "y2label 'distance to nearest neighbour'\nset ytics nomirror\nset y2tics\nset key "
            "top left\nplot %s skip 1 u 1:4:6 w p pt 7 ps 0.5 lc rgb variable t 'mixture "
            "value', %s skip 1 u 1:5 axes x1y2 w l dt 2 lc rgb 'black' t 'nearest-neighbour "
            "distance'\nunset multiplot\n",
            lo, hi, lo, hi, m, p, p, p));
    Json& j = ctx.report.data().Set("toy", Json::Object());
    j.Set("checkpoint", model.path);
    j.Set("step", model.step);
    j.Set("mean_mixture_value", mean_value);
    j.Set("peaks_visited", peaks);
    j.Set("components", model.toy.components());
    ctx.report.AddRow({"4.1 toy", "mixture peaks visited by the generated path (within 1 sigma)",
                       absl::StrCat(peaks, " of ", model.toy.components()), "all (Fig. 1a)",
                       "path passes through all peaks"});
    ctx.report.AddRow({"4.1 toy", "mean mixture value along the path", Number(mean_value), "", ""});
    ctx.report.AddSection(
        "Toy problem (paper 4.1, Fig. 1)",
        absl::StrCat(absl::StrFormat("Checkpoint `%s` (step %d). The generator maps 400 evenly "
                                     "spaced z in [-1, 1] to 2-D points; colour follows z. "
                                     "The path passes within one sigma of %d of the %d peaks; "
                                     "mean mixture value along it %.4f. Data: `%s`, "
                                     "`data/toy_mixture.csv`.\n\n",
                                     model.path, model.step, peaks, model.toy.components(),
                                     mean_value, *csv),
                     FigureLink("toy problem", png)));
    return absl::OkStatus();
  });
}

}  // namespace hnet::eval
