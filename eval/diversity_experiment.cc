// Diversity of generated networks (paper 4.2.2): disagreement, weight-space distances, the
// entropy estimate, PCA scatter matrices (Figs. 6, 9-15) and filter images (Fig. 3).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/diversity.h"
#include "core/gauge.h"
#include "core/torch_status.h"
#include "eval/experiments.h"
#include "eval/metrics.h"
#include "io/file_io.h"

namespace hnet::eval {
namespace {

namespace fs = std::filesystem;

Json DistanceJson(const DistanceSummary& d) {
  Json j = Json::Object();
  j.Set("mean", d.mean);
  j.Set("sd", d.std);
  j.Set("min", d.min);
  j.Set("max", d.max);
  j.Set("mean_nearest", d.mean_nearest);
  j.Set("mean_norm", d.mean_norm);
  return j;
}

// Writes a matrix [R, C] as comma-separated rows without a header (gnuplot `matrix`).
absl::Status WriteMatrix(const std::string& path, const at::Tensor& m) {
  at::Tensor c = m.to(torch::kFloat64).contiguous();
  const double* p = c.data_ptr<double>();
  std::string text;
  for (int64_t r = 0; r < c.size(0); ++r) {
    for (int64_t k = 0; k < c.size(1); ++k) {
      const double v = p[r * c.size(1) + k];
      absl::StrAppend(&text, k > 0 ? "," : "",
                      std::isfinite(v) ? absl::StrFormat("%.6g", v) : "nan");
    }
    text += "\n";
  }
  return io::WriteFile(path, text);
}

}  // namespace

absl::Status RunDiversity(EvalContext& ctx, const MemberSet& members, const HypernetModel* model) {
  return core::TorchCall(absl::StrCat(members.name, " diversity"), [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    const Disagreement dis = PairwiseDisagreement(members.test_probs, ctx.test.labels);
    core::WeightBatch cpu;
    for (const at::Tensor& w : members.weights) cpu.push_back(w.cpu());
    const DistanceSummary raw = SummarizeDistances(core::FlattenWeights(cpu));
    const DistanceSummary scale =
        SummarizeDistances(core::FlattenWeights(core::GaugeFix(members.layout, cpu, true, false)));
    const DistanceSummary perm =
        SummarizeDistances(core::FlattenWeights(core::GaugeFix(members.layout, cpu, true, true)));
    Json& j = ctx.report.data().Set(absl::StrCat(members.key, "_diversity"), Json::Object());
    j.Set("members", members.size());
    j.Set("disagreement", dis.mean);
    j.Set("mean_error", dis.mean_error);
    j.Set("disagreement_over_error", dis.normalized);
    j.Set("distance_raw", DistanceJson(raw));
    j.Set("distance_scale_gauge", DistanceJson(scale));
    j.Set("distance_scale_permutation_gauge", DistanceJson(perm));
    const std::string exp =
        model != nullptr ? "4.2.2 diversity" : absl::StrCat("baseline: ", members.name);
    ctx.report.AddRow({exp, "pairwise disagreement on test images", Percent(dis.mean), "",
                       absl::StrCat(dis.pairs, " pairs; beyond the paper")});
    ctx.report.AddRow({exp, "disagreement / mean error rate", Number(dis.normalized), "",
                       "1 would mean errors never overlap more than by chance"});
    ctx.report.AddRow({exp, "mean pairwise L2 distance, raw / scale gauge / +permutation",
                       absl::StrFormat("%.4g / %.4g / %.4g", raw.mean, scale.mean, perm.mean), "",
                       absl::StrFormat("mean norm %.4g / %.4g / %.4g", raw.mean_norm,
                                       scale.mean_norm, perm.mean_norm)});
    std::string entropy_md;
    if (model != nullptr) {
      const hnet::v1::DiversityConfig& d = model->config.diversity();
      at::Tensor flat = core::FlattenWeights(
          core::GaugeFix(members.layout, cpu, d.scale_gauge(), d.permutation_gauge()));
      const double h = core::Diversity(d, flat, model->config.hypernet().z_dim()).item<double>();
      j.Set("entropy_estimate", h);
      j.Set("entropy_samples", members.size());
      ctx.report.AddRow({exp,
                         absl::StrCat("entropy estimate as trained (N = ", members.size(), ")"),
                         Number(h), "", "Kozachenko-Leonenko, d = dim z, the checkpoint's metric"});
      entropy_md = absl::StrFormat(
          "Entropy estimate of the gauge-fixed weights as trained (Kozachenko-Leonenko with "
          "d = dim z = %d, the checkpoint's metric and gauge, N = %d samples; it grows with N "
          "through psi(N)): %.4g.\n\n",
          model->config.hypernet().z_dim(), members.size(), h);
    }
    ctx.report.AddSection(
        absl::StrCat("Diversity: ", members.name),
        absl::StrCat(
            absl::StrFormat(
                "Pairwise disagreement (fraction of test images on which two members' argmax "
                "differ, over all %d pairs): %s; divided by the mean error rate (%s): %.3g.\n\n",
                dis.pairs, Percent(dis.mean), Percent(dis.mean_error), dis.normalized),
            "| weights | mean distance | sd | min | max | mean nearest | mean norm |\n"
            "| --- | --- | --- | --- | --- | --- | --- |\n",
            absl::StrFormat("| raw | %.4g | %.4g | %.4g | %.4g | %.4g | %.4g |\n", raw.mean,
                            raw.std, raw.min, raw.max, raw.mean_nearest, raw.mean_norm),
            absl::StrFormat("| scale gauge | %.4g | %.4g | %.4g | %.4g | %.4g | %.4g |\n",
                            scale.mean, scale.std, scale.min, scale.max, scale.mean_nearest,
                            scale.mean_norm),
            absl::StrFormat("| scale + permutation gauge | %.4g | %.4g | %.4g | %.4g | %.4g | "
                            "%.4g |\n\n",
                            perm.mean, perm.std, perm.min, perm.max, perm.mean_nearest,
                            perm.mean_norm),
            entropy_md));
    return absl::OkStatus();
  });
}

absl::Status RunPca(EvalContext& ctx, const HypernetModel& model, const MemberSet& pool) {
  return core::TorchCall("PCA scatter", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    core::WeightBatch cpu;
    for (const at::Tensor& w : pool.weights) cpu.push_back(w.cpu());
    const core::WeightBatch fixed = AnalysisGauge(model, cpu);
    const int64_t n = pool.size();
    struct Set {
      std::string name, label, paper;
      at::Tensor data;
    };
    std::vector<Set> sets;
    const int64_t layers = model.layout.num_layers();
    const char* filter_figs[] = {"Fig. 9", "Fig. 6", "Fig. 10"};
    for (int64_t l = 0; l + 1 < layers && l < 3; ++l) {
      sets.push_back({absl::StrCat("pca_layer", l + 1, "_filter1"),
                      absl::StrCat("layer ", l + 1, ", filter 1"), filter_figs[l],
                      fixed[l].select(1, 0)});
    }
    for (int64_t l = 0; l < layers; ++l) {
      sets.push_back({absl::StrCat("pca_layer", l + 1), absl::StrCat("layer ", l + 1),
                      l < 4 ? absl::StrCat("Fig. ", 11 + l) : "", fixed[l].reshape({n, -1})});
    }
    sets.push_back({"pca_network", "whole network", "Fig. 15", core::FlattenWeights(fixed)});
    Json& j = ctx.report.data().Set("hypernet_pca", Json::Object());
    std::string md = absl::StrFormat(
        "Generated weights of %d networks after the analysis gauge (scale%s), projected on "
        "their first %d principal components; panel (i, j) plots component i against j.\n\n"
        "| weights | paper | dims | explained variance of PC1..PC%d | data | figure |\n"
        "| --- | --- | --- | --- | --- | --- |\n",
        n, model.config.diversity().permutation_gauge() ? " + permutation" : "",
        ctx.options.pca_components, ctx.options.pca_components);
    std::string figures;
    std::vector<double> network_ratio(2, 0.0);
    for (const Set& set : sets) {
      const Pca pca = PrincipalComponents(set.data, ctx.options.pca_components);
      const int64_t k = pca.projections.size(1);
      std::vector<std::string> header;
      for (int64_t c = 0; c < k; ++c) header.push_back(absl::StrCat("pc", c + 1));
      CsvTable table(header);
      for (int64_t r = 0; r < n; ++r) {
        at::Tensor row = pca.projections[r].contiguous();
        table.AddRow(std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + k));
      }
      auto csv = ctx.WriteCsv(set.name, table);
      if (!csv.ok()) return csv.status();
      std::vector<double> ratio(pca.explained_ratio.data_ptr<double>(),
                                pca.explained_ratio.data_ptr<double>() + k);
      if (set.name == "pca_network") {
        for (int64_t c = 0; c < std::min<int64_t>(2, k); ++c) network_ratio[c] = ratio[c];
      }
      Json& sj = j.Set(set.name, Json::Object());
      sj.Set("dims", set.data.size(1));
      sj.Set("explained_ratio", ratio);
      std::string ratios;
      for (double r : ratio) absl::StrAppend(&ratios, ratios.empty() ? "" : ", ", Percent(r, 1));
      const int64_t panels = k * (k - 1) / 2;
      const int64_t cols = std::min<int64_t>(3, panels);
      const int64_t rows = (panels + cols - 1) / cols;
      std::string body = absl::StrFormat(
          "set multiplot layout %d,%d title 'PCA of generated weights: %s'\nunset key\n"
          "set format x ''\nset format y ''\n",
          rows, cols, set.label);
      for (int64_t a = 1; a <= k; ++a) {
        for (int64_t b = a + 1; b <= k; ++b) {
          absl::StrAppendFormat(&body,
                                "set title '(%d, %d)'\nplot %s skip 1 u %d:%d w p pt 7 ps 0.4 "
                                "lc rgb '#3060c0'\n",
                                a, b, ctx.DataRef(set.name), a, b);
        }
      }
      body += "unset multiplot\n";
      const std::string png = ctx.Figure(set.name, 300 * cols, 280 * rows, body);
      absl::StrAppend(&md, "| ", set.label, " | ", set.paper.empty() ? "—" : set.paper, " | ",
                      set.data.size(1), " | ", ratios, " | `", *csv, "` | ",
                      png.empty() ? "not rendered" : absl::StrCat("[png](figures/", png, ")"),
                      " |\n");
      absl::StrAppend(&figures, "### ", set.label, "\n\n", FigureLink(set.label, png));
    }
    ctx.report.AddRow(
        {"4.2.2 PCA", "explained variance of PC1 / PC2, whole network",
         absl::StrFormat("%s / %s", Percent(network_ratio[0], 1), Percent(network_ratio[1], 1)),
         "scatter only (Figs. 9-15)", "non-trivial manifold expected"});
    ctx.report.AddSection("PCA of generated weights (paper Figs. 6, 9-15)",
                          absl::StrCat(md, "\n", figures));
    return absl::OkStatus();
  });
}

absl::Status RunFilters(EvalContext& ctx, const HypernetModel& model, const MemberSet& pool) {
  return core::TorchCall("filter images", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    core::WeightBatch cpu;
    for (const at::Tensor& w : pool.weights) cpu.push_back(w.cpu());
    const core::WeightBatch fixed = AnalysisGauge(model, cpu);
    const int64_t samples = std::min<int64_t>(25, pool.size());
    const int64_t grid = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(samples))));
    struct Slice {
      int64_t layer, filter;
      std::string label;
    };
    std::vector<Slice> slices;
    const auto& layers = model.layout.layers();
    if (!layers.empty() && layers[0].kind == core::LayerShape::Kind::kConv) {
      slices.push_back({0, 0, "layer 1, filter 1"});
      if (layers[0].filters > 1) slices.push_back({0, 1, "layer 1, filter 2"});
    }
    for (size_t l = 1; l < layers.size() && slices.size() < 4; ++l) {
      const bool spatial = layers[l].kind == core::LayerShape::Kind::kConv ||
                           layers[l].in_height * layers[l].in_width > 1;
      if (spatial)
        slices.push_back({static_cast<int64_t>(l), 0, absl::StrCat("layer ", l + 1, ", filter 1")});
    }
    std::string body = absl::StrFormat(
        "set multiplot layout 2,2 title 'Generated filter slices (input channel 1), %d samples "
        "each'\n"
        "set datafile missing 'nan'\nunset key\nunset xtics\nunset ytics\nunset colorbox\n"
        "set size ratio -1\nset palette defined (-1 '#2040c0', 0 'white', 1 '#c02020')\n",
        samples);
    std::string md = absl::StrFormat(
        "Each panel: %d samples (a %dx%d mosaic) of one filter's slice for input channel 1, "
        "after the analysis gauge; blue negative, red positive, one colour scale per panel.\n\n",
        samples, grid, grid);
    for (size_t s = 0; s < slices.size(); ++s) {
      const core::LayerShape& shape = layers[slices[s].layer];
      const int64_t h =
          shape.kind == core::LayerShape::Kind::kConv ? shape.kernel : shape.in_height;
      const int64_t w = shape.kind == core::LayerShape::Kind::kConv ? shape.kernel : shape.in_width;
      at::Tensor slice = fixed[slices[s].layer]
                             .select(1, slices[s].filter)
                             .narrow(1, 0, h * w)
                             .narrow(0, 0, samples)
                             .reshape({samples, h, w})
                             .to(torch::kFloat64);
      at::Tensor mosaic =
          torch::full({grid * (h + 1) - 1, grid * (w + 1) - 1}, NAN, torch::kFloat64);
      for (int64_t i = 0; i < samples; ++i) {
        const int64_t r = i / grid, c = i % grid;
        mosaic.narrow(0, r * (h + 1), h).narrow(1, c * (w + 1), w).copy_(slice[i]);
      }
      const std::string name = absl::StrCat("filters_", s + 1);
      const std::string path = (fs::path(ctx.data_dir) / absl::StrCat(name, ".csv")).string();
      if (absl::Status st = WriteMatrix(path, mosaic); !st.ok()) return st;
      const double range = std::max(1e-12, slice.abs().max().item<double>());
      absl::StrAppendFormat(&body,
                            "set title '%s'\nset cbrange [%g:%g]\nset yrange [*:*] reverse\n"
                            "plot %s matrix w image\n",
                            slices[s].label, -range, range, ctx.DataRef(name));
      absl::StrAppend(&md, "- ", slices[s].label, ": `data/", name, ".csv` (", h, "x", w,
                      " per sample)\n");
    }
    body += "unset multiplot\n";
    const std::string png = ctx.Figure("filters", 900, 900, body);
    ctx.report.AddSection("Generated filters (paper Fig. 3)",
                          absl::StrCat(md, "\n", FigureLink("generated filters", png)));
    return absl::OkStatus();
  });
}

}  // namespace hnet::eval
