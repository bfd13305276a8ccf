// Paths in weight space (paper 4.2.2, Fig. 7): between G(z1) and G(z2), the direct path
// G(z1) t + G(z2) (1 - t) against the interpolated path G(z1 t + z2 (1 - t)); beyond the
// paper, the direct path between the gauge-fixed end points too.
#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/evaluation.h"
#include "core/gauge.h"
#include "core/torch_status.h"
#include "eval/experiments.h"
#include "eval/progress.h"

namespace hnet::eval {
namespace {

core::WeightBatch Blend(const core::WeightBatch& a, const core::WeightBatch& b,
                        const at::Tensor& t) {
  core::WeightBatch out;
  for (size_t l = 0; l < a.size(); ++l) {
    at::Tensor tt = t.to(a[l].device(), a[l].scalar_type()).view({-1, 1, 1});
    out.push_back(a[l] * tt + b[l] * (1 - tt));
  }
  return out;
}

}  // namespace

absl::Status RunPaths(EvalContext& ctx, const HypernetModel& model, Headline* headline) {
  return core::TorchCall("paths in weight space", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    const int64_t pairs = ctx.options.path_pairs, points = ctx.options.path_points;
    at::Generator generator = ctx.Generator("paths");
    at::Tensor t = torch::linspace(0, 1, points, torch::kFloat64);
    const int64_t m = ctx.options.path_images > 0
                          ? std::min(ctx.options.path_images, ctx.test.size())
                          : ctx.test.size();
    const at::Tensor images = ctx.test.images.narrow(0, 0, m);
    const at::Tensor labels = ctx.test.labels.narrow(0, 0, m);
    CsvTable table({"pair", "t", "interpolated", "direct", "direct_gauge_fixed"});
    std::vector<double> endpoint, interp_min, direct_min, gauge_min, interp_mid, direct_mid;
    Progress progress("paths", pairs, 0.0);
    for (int64_t p = 0; p < pairs; ++p) {
      at::Tensor z = SampleZ(model, 2, generator);
      at::Tensor tz = t.to(torch::kFloat32).unsqueeze(1);
      at::Tensor zt = z[0].unsqueeze(0) * tz + z[1].unsqueeze(0) * (1 - tz);
      core::WeightBatch ends = Generate(model, z);
      core::WeightBatch fixed = AnalysisGauge(model, ends);
      const core::WeightBatch w1 = core::SliceNetworks(ends, 0, 1),
                              w2 = core::SliceNetworks(ends, 1, 2);
      const core::WeightBatch g1 = core::SliceNetworks(fixed, 0, 1),
                              g2 = core::SliceNetworks(fixed, 1, 2);
      const std::string what = absl::StrCat("path ", p + 1, "/", pairs);
      const std::vector<double> interp = core::NetworkAccuracies(
          Predict(model.layout, Generate(model, zt), images, what + " interpolated"), labels);
      const std::vector<double> direct = core::NetworkAccuracies(
          Predict(model.layout, Blend(w1, w2, t), images, what + " direct"), labels);
      const std::vector<double> gauge = core::NetworkAccuracies(
          Predict(model.layout, Blend(g1, g2, t), images, what + " direct, gauge-fixed"), labels);
      for (int64_t i = 0; i < points; ++i) {
        table.AddRow(
            {static_cast<double>(p + 1), t[i].item<double>(), interp[i], direct[i], gauge[i]});
      }
      endpoint.push_back(interp.front());
      endpoint.push_back(interp.back());
      interp_min.push_back(*std::min_element(interp.begin(), interp.end()));
      direct_min.push_back(*std::min_element(direct.begin(), direct.end()));
      gauge_min.push_back(*std::min_element(gauge.begin(), gauge.end()));
      interp_mid.push_back(interp[points / 2]);
      direct_mid.push_back(direct[points / 2]);
      progress.Update(p + 1);
    }
    auto csv = ctx.WriteCsv("paths", table);
    if (!csv.ok()) return csv.status();
    const core::Summary e = core::Summarize(endpoint), im = core::Summarize(interp_min),
                        dm = core::Summarize(direct_min), gm = core::Summarize(gauge_min),
                        imid = core::Summarize(interp_mid), dmid = core::Summarize(direct_mid);
    headline->path_endpoint_mean = e.mean;
    headline->path_interpolated_min = im.mean;
    headline->path_direct_min = dm.mean;
    Json& j = ctx.report.data().Set("hypernet_paths", Json::Object());
    j.Set("pairs", pairs);
    j.Set("points", points);
    j.Set("endpoint_mean", e.mean);
    j.Set("interpolated_min_mean", im.mean);
    j.Set("direct_min_mean", dm.mean);
    j.Set("direct_gauge_fixed_min_mean", gm.mean);
    j.Set("interpolated_mid_mean", imid.mean);
    j.Set("direct_mid_mean", dmid.mean);
    const std::string exp = "4.2.2 paths";
    ctx.report.AddRow(
        {exp, "end points, mean accuracy", Percent(e.mean), "plot only (Fig. 7)", ""});
    ctx.report.AddRow({exp, "interpolated path, mean of per-path minimum", Percent(im.mean),
                       "stays high (Fig. 7)", ""});
    ctx.report.AddRow({exp, "direct path, mean of per-path minimum", Percent(dm.mean),
                       "dips (Fig. 7)", "MNFG's direct path stays high (Fig. 21)"});
    ctx.report.AddRow({exp, "direct path between gauge-fixed end points, mean minimum",
                       Percent(gm.mean), "", "beyond the paper"});
    const int64_t shown = std::min<int64_t>(pairs, 10);
    const int64_t cols = std::min<int64_t>(5, shown), rows = (shown + cols - 1) / cols;
    std::string body = absl::StrFormat(
        "set multiplot layout %d,%d title 'Test accuracy (%%) along paths: solid interpolated "
        "z, dashed direct, dotted direct after gauge fixing'\n"
        "unset key\nset yrange [0:100]\nset xrange [0:1]\nset xtics 0.5\nset grid\n",
        rows, cols);
    for (int64_t p = 1; p <= shown; ++p) {
      const std::string d = ctx.DataRef("paths");
      absl::StrAppendFormat(&body,
                            "set title 'pair %d'\nplot %s skip 1 u 2:($1==%d?100*$3:1/0) w l lw 2 "
                            "lc rgb '#3060c0', %s skip 1 u 2:($1==%d?100*$4:1/0) w l dt 2 lw 2 lc "
                            "rgb '#c03030', %s skip 1 u 2:($1==%d?100*$5:1/0) w l dt 3 lw 2 lc "
                            "rgb '#30a030'\n",
                            p, d, p, d, p, d, p);
    }
    body += "unset multiplot\n";
    const std::string png =
        ctx.Figure("paths", std::max<int64_t>(700, 280 * cols), 250 * rows + 40, body);
    ctx.report.AddSection(
        "Paths in weight space (paper Fig. 7)",
        absl::StrCat(
            absl::StrFormat(
                "%d random pairs (z1, z2), %d points each (t from 0 to 1), accuracy on %d test "
                "images. End points: %s on average. Per-path minimum, averaged over pairs: "
                "interpolated %s, direct %s, direct between gauge-fixed end points %s. "
                "Mid-points: interpolated %s, direct %s. Data: `%s`.\n\n",
                pairs, points, m, Percent(e.mean), Percent(im.mean), Percent(dm.mean),
                Percent(gm.mean), Percent(imid.mean), Percent(dmid.mean), *csv),
            FigureLink("paths", png)));
    return absl::OkStatus();
  });
}

}  // namespace hnet::eval
