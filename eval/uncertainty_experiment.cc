// Beyond the paper: calibration on MNIST and out-of-distribution detection of
// Fashion-MNIST, for single members and for the ensemble's mean prediction.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/evaluation.h"
#include "core/torch_status.h"
#include "eval/experiments.h"
#include "eval/metrics.h"

namespace hnet::eval {
namespace {

std::string ExperimentName(const MemberSet& members, const std::string& what) {
  return members.key == "hypernet" ? what : absl::StrCat("baseline: ", members.name);
}

}  // namespace

absl::Status RunCalibration(EvalContext& ctx, const MemberSet& members) {
  return core::TorchCall(absl::StrCat(members.name, " calibration"), [&]() -> absl::Status {
    const int bins = ctx.options.calibration_bins;
    const int64_t u = std::min(ctx.options.uncertainty_members, members.size());
    const at::Tensor& labels = ctx.test.labels;
    at::Tensor members_probs = members.test_probs.narrow(0, 0, u);
    at::Tensor ensemble = members_probs.mean(0);
    std::vector<double> ece, nll, brier;
    for (int64_t i = 0; i < u; ++i) {
      ece.push_back(ExpectedCalibrationError(members_probs[i], labels, bins));
      nll.push_back(NegativeLogLikelihood(members_probs[i], labels));
      brier.push_back(BrierScore(members_probs[i], labels));
    }
    const core::Summary se = core::Summarize(ece), sn = core::Summarize(nll),
                        sb = core::Summarize(brier);
    const double ee = ExpectedCalibrationError(ensemble, labels, bins);
    const double en = NegativeLogLikelihood(ensemble, labels);
    const double eb = BrierScore(ensemble, labels);
    const double ea = core::Accuracy(ensemble.argmax(-1), labels);
    const auto rel_single = ReliabilityBins(members_probs[0], labels, bins);
    const auto rel_ensemble = ReliabilityBins(ensemble, labels, bins);
    CsvTable table({"bin_low", "bin_high", "single_count", "single_confidence", "single_accuracy",
                    "ensemble_count", "ensemble_confidence", "ensemble_accuracy"});
    for (int b = 0; b < bins; ++b) {
      auto val = [](const ReliabilityBin& r, double v) { return r.count > 0 ? v : NAN; };
      table.AddRow(
          {rel_single[b].lower, rel_single[b].upper, static_cast<double>(rel_single[b].count),
           val(rel_single[b], rel_single[b].mean_confidence),
           val(rel_single[b], rel_single[b].accuracy), static_cast<double>(rel_ensemble[b].count),
           val(rel_ensemble[b], rel_ensemble[b].mean_confidence),
           val(rel_ensemble[b], rel_ensemble[b].accuracy)});
    }
    const std::string name = absl::StrCat(members.key, "_reliability");
    auto csv = ctx.WriteCsv(name, table);
    if (!csv.ok()) return csv.status();
    Json& j = ctx.report.data().Set(absl::StrCat(members.key, "_calibration"), Json::Object());
    j.Set("bins", bins);
    j.Set("ensemble_members", u);
    Json& js = j.Set("single", Json::Object());
    js.Set("ece_mean", se.mean);
    js.Set("ece_sd", se.std);
    js.Set("nll_mean", sn.mean);
    js.Set("brier_mean", sb.mean);
    Json& je = j.Set("ensemble", Json::Object());
    je.Set("accuracy", ea);
    je.Set("ece", ee);
    je.Set("nll", en);
    je.Set("brier", eb);
    const std::string exp = ExperimentName(members, "calibration");
    ctx.report.AddRow({exp, absl::StrCat("ECE (", bins, " bins), single member (mean of ", u, ")"),
                       Number(se.mean), "", "beyond the paper"});
    ctx.report.AddRow(
        {exp, absl::StrCat("ECE, ensemble mean probability of ", u), Number(ee), "", ""});
    ctx.report.AddRow(
        {exp, "NLL single / ensemble", absl::StrFormat("%.4f / %.4f", sn.mean, en), "", ""});
    ctx.report.AddRow(
        {exp, "Brier single / ensemble", absl::StrFormat("%.4f / %.4f", sb.mean, eb), "", ""});
    const std::string d = ctx.DataRef(name);
    const std::string png = ctx.Figure(
        name, 600, 550,
        absl::StrFormat(
            "set title '%s: reliability diagram (%d bins)'\nset xlabel 'confidence'\nset ylabel "
            "'accuracy'\nset xrange [0:1]\nset yrange [0:1]\nset key top left\nset grid\nset "
            "size ratio -1\nplot x w l dt 2 lc rgb 'gray50' t 'perfect calibration', %s skip 1 "
            "u 4:5 w lp pt 7 lc rgb '#c03030' t 'single member', %s skip 1 u 7:8 w lp pt 5 lc "
            "rgb '#3060c0' t 'ensemble of %d'\n",
            members.name, bins, d, d, u));
    ctx.report.AddSection(
        absl::StrCat("Calibration: ", members.name),
        absl::StrCat(
            absl::StrFormat(
                "On %d MNIST test images. Single members (mean ± sd over the first %d): ECE "
                "%.4f ± %.4f, NLL %.4f, Brier %.4f. Ensemble (mean probability of %d members, "
                "accuracy %s): ECE %.4f, NLL %.4f, Brier %.4f. Data: `%s`.\n\n",
                ctx.test.size(), u, se.mean, se.std, sn.mean, sb.mean, u, Percent(ea), ee, en, eb,
                *csv),
            FigureLink("reliability diagram", png)));
    return absl::OkStatus();
  });
}

absl::Status RunOod(EvalContext& ctx, const MemberSet& members, double* auroc) {
  return core::TorchCall(absl::StrCat(members.name, " OOD detection"), [&]() -> absl::Status {
    if (ctx.ood.size() == 0) return absl::FailedPreconditionError("no Fashion-MNIST images loaded");
    const int64_t u = std::min(ctx.options.uncertainty_members, members.size());
    const core::WeightBatch weights = core::SliceNetworks(members.weights, 0, u);
    at::Tensor in_probs = members.test_probs.narrow(0, 0, u);
    at::Tensor out_probs = Predict(members.layout, weights, ctx.ood.images,
                                   absl::StrCat(members.name, " on Fashion-MNIST"));
    at::Tensor in_entropy = PredictiveEntropy(in_probs.mean(0));
    at::Tensor out_entropy = PredictiveEntropy(out_probs.mean(0));
    at::Tensor in_single = PredictiveEntropy(in_probs[0]);
    at::Tensor out_single = PredictiveEntropy(out_probs[0]);
    struct Score {
      std::string name;
      double auroc, aupr;
    };
    std::vector<Score> scores = {
        {"entropy of the mean prediction", Auroc(out_entropy, in_entropy),
         Aupr(out_entropy, in_entropy)},
        {"entropy of a single member", Auroc(out_single, in_single), Aupr(out_single, in_single)}};
    at::Tensor in_mi, out_mi;
    if (u >= 2) {
      in_mi = MutualInformation(in_probs);
      out_mi = MutualInformation(out_probs);
      scores.insert(scores.begin() + 1,
                    Score{"mutual information", Auroc(out_mi, in_mi), Aupr(out_mi, in_mi)});
    }
    *auroc = scores[0].auroc;
    // Histograms of the ensemble's entropy on both sets.
    const int bins = 40;
    const double top = std::log(static_cast<double>(members.layout.num_classes()));
    at::Tensor hin = torch::histc(in_entropy.to(torch::kFloat64), bins, 0, top);
    at::Tensor hout = torch::histc(out_entropy.to(torch::kFloat64), bins, 0, top);
    CsvTable table({"entropy", "mnist_fraction", "fashion_fraction"});
    for (int b = 0; b < bins; ++b) {
      table.AddRow({(b + 0.5) * top / bins, hin[b].item<double>() / in_entropy.numel(),
                    hout[b].item<double>() / out_entropy.numel()});
    }
    const std::string name = absl::StrCat(members.key, "_ood_entropy");
    auto csv = ctx.WriteCsv(name, table);
    if (!csv.ok()) return csv.status();
    Json& j = ctx.report.data().Set(absl::StrCat(members.key, "_ood"), Json::Object());
    j.Set("members", u);
    j.Set("mnist_images", in_entropy.numel());
    j.Set("fashion_images", out_entropy.numel());
    std::string md = absl::StrFormat(
        "MNIST test (in-distribution, %d images) vs Fashion-MNIST test (out-of-distribution, "
        "%d images, the positives), scored by the ensemble of %d members.\n\n"
        "| score | AUROC | AUPR |\n| --- | --- | --- |\n",
        in_entropy.numel(), out_entropy.numel(), u);
    const std::string exp = ExperimentName(members, "OOD (Fashion-MNIST)");
    for (const Score& s : scores) {
      Json& sj = j.Set(s.name, Json::Object());
      sj.Set("auroc", s.auroc);
      sj.Set("aupr", s.aupr);
      absl::StrAppendFormat(&md, "| %s | %.4f | %.4f |\n", s.name, s.auroc, s.aupr);
      ctx.report.AddRow({exp, absl::StrCat("AUROC / AUPR, ", s.name),
                         absl::StrFormat("%.4f / %.4f", s.auroc, s.aupr), "", "beyond the paper"});
    }
    const std::string d = ctx.DataRef(name);
    const std::string png = ctx.Figure(
        name, 700, 450,
        absl::StrFormat(
            "set title '%s: entropy of the mean prediction'\nset xlabel 'entropy (nats)'\nset "
            "ylabel 'fraction of images'\nset logscale y\nset key top right\nset grid\nset "
            "style fill transparent solid 0.4 noborder\nplot %s skip 1 u 1:($2>0?$2:1/0) w "
            "boxes lc rgb '#3060c0' t 'MNIST', %s skip 1 u 1:($3>0?$3:1/0) w boxes lc rgb "
            "'#c03030' t 'Fashion-MNIST'\n",
            members.name, d, d));
    ctx.report.AddSection(
        absl::StrCat("Out-of-distribution detection: ", members.name),
        absl::StrCat(md, "\nData: `", *csv, "`.\n\n", FigureLink("OOD entropy", png)));
    return absl::OkStatus();
  });
}

}  // namespace hnet::eval
