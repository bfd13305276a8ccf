// Adversarial examples (paper 4.2.3, Fig. 8) and the white-box attack through the ensemble.
#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/log.h"
#include "core/torch_status.h"
#include "eval/adversarial.h"
#include "eval/experiments.h"
#include "eval/progress.h"

namespace hnet::eval {
namespace {

double MeanOverPositiveEps(const std::vector<double>& eps, const std::vector<double>& v) {
  double sum = 0;
  int count = 0;
  for (size_t i = 0; i < eps.size(); ++i) {
    if (eps[i] > 0) {
      sum += v[i];
      ++count;
    }
  }
  return count > 0 ? sum / count : 0.0;
}

}  // namespace

absl::Status RunAdversarial(EvalContext& ctx, const MemberSet& members, Headline* headline) {
  return core::TorchCall(absl::StrCat(members.name, " adversarial"), [&]() -> absl::Status {
    const EvalOptions& o = ctx.options;
    const int64_t available = ctx.test.size();
    const int64_t m =
        o.adversarial_images > 0 ? std::min(o.adversarial_images, available) : available;
    const core::WeightBatch single = core::SliceNetworks(members.weights, 0, 1);
    // Images the attacked network classifies correctly (the reference's protocol).
    at::Tensor correct =
        members.test_probs[0].narrow(0, 0, m).argmax(-1).eq(ctx.test.labels.narrow(0, 0, m));
    at::Tensor index = correct.nonzero().squeeze(1);
    if (index.numel() == 0) {
      ctx.report.AddSection(absl::StrCat("Adversarial examples: ", members.name),
                            absl::StrCat("Skipped: the attacked network classifies none of the ", m,
                                         " images correctly.\n"));
      return absl::OkStatus();
    }
    at::Tensor images = ctx.test.images.index_select(0, index);
    at::Tensor labels = ctx.test.labels.index_select(0, index);
    at::Generator generator = ctx.Generator(absl::StrCat(members.key, "/adversarial"));
    at::Tensor targets = RandomTargets(labels, members.layout.num_classes(), generator);
    std::vector<double> eps = PaperEpsilons();
    eps.resize(std::min<size_t>(eps.size(), o.adversarial_epsilon_steps));
    const bool has_ensemble = members.size() >= 2;
    const int64_t ensemble_size =
        has_ensemble ? std::min(o.adversarial_ensemble, members.size() - 1) : 0;
    log::Info(
        "{}: attacking {} correctly classified images ({} of {}), {} perturbation sizes, "
        "ensemble of {}",
        members.name, index.numel(), index.numel(), m, eps.size(), ensemble_size);
    Progress progress(absl::StrCat(members.name, " adversarial"), has_ensemble ? 4 : 1, 0.0);
    at::Tensor sign_single = TargetedGradientSign(members.layout, single, images, targets);
    const AttackCurve single_curve =
        EvaluateAttack(members.layout, single, images, sign_single, labels, targets, eps);
    progress.Update(1);
    AttackCurve ensemble_transfer, ensemble_whitebox, single_from_ensemble;
    if (has_ensemble) {
      const core::WeightBatch ensemble = core::SliceNetworks(members.weights, 1, 1 + ensemble_size);
      ensemble_transfer =
          EvaluateAttack(members.layout, ensemble, images, sign_single, labels, targets, eps);
      progress.Update(2);
      at::Tensor sign_ensemble = TargetedGradientSign(members.layout, ensemble, images, targets);
      ensemble_whitebox =
          EvaluateAttack(members.layout, ensemble, images, sign_ensemble, labels, targets, eps);
      progress.Update(3);
      single_from_ensemble =
          EvaluateAttack(members.layout, single, images, sign_ensemble, labels, targets, eps);
      progress.Update(4);
    }
    CsvTable table({"epsilon_255", "epsilon", "single_targeted", "single_untargeted",
                    "ensemble_transfer_targeted", "ensemble_transfer_untargeted",
                    "ensemble_whitebox_targeted", "ensemble_whitebox_untargeted",
                    "single_from_ensemble_gradient_targeted"});
    for (size_t i = 0; i < eps.size(); ++i) {
      auto col = [&](const std::vector<double>& v) { return v.empty() ? NAN : v[i]; };
      table.AddRow(
          {eps[i] * 255, eps[i], single_curve.targeted_success[i],
           single_curve.untargeted_success[i], col(ensemble_transfer.targeted_success),
           col(ensemble_transfer.untargeted_success), col(ensemble_whitebox.targeted_success),
           col(ensemble_whitebox.untargeted_success), col(single_from_ensemble.targeted_success)});
    }
    const std::string name = absl::StrCat(members.key, "_adversarial");
    auto csv = ctx.WriteCsv(name, table);
    if (!csv.ok()) return csv.status();
    const double s_mean = MeanOverPositiveEps(eps, single_curve.targeted_success);
    const double t_mean =
        has_ensemble ? MeanOverPositiveEps(eps, ensemble_transfer.targeted_success) : NAN;
    const double w_mean =
        has_ensemble ? MeanOverPositiveEps(eps, ensemble_whitebox.targeted_success) : NAN;
    if (headline != nullptr && has_ensemble) headline->adversarial = std::make_pair(s_mean, t_mean);
    Json& j = ctx.report.data().Set(name, Json::Object());
    j.Set("images", index.numel());
    j.Set("ensemble_size", ensemble_size);
    j.Set("epsilons", eps);
    j.Set("single_targeted", single_curve.targeted_success);
    j.Set("single_untargeted", single_curve.untargeted_success);
    if (has_ensemble) {
      j.Set("ensemble_transfer_targeted", ensemble_transfer.targeted_success);
      j.Set("ensemble_whitebox_targeted", ensemble_whitebox.targeted_success);
      j.Set("single_from_ensemble_gradient_targeted", single_from_ensemble.targeted_success);
    }
    j.Set("mean_success_single", s_mean);
    j.Set("mean_success_ensemble_transfer", t_mean);
    j.Set("mean_success_ensemble_whitebox", w_mean);
    const std::string exp =
        headline != nullptr ? "4.2.3 adversarial" : absl::StrCat("baseline: ", members.name);
    const std::string eps_range =
        absl::StrFormat("eps 2..%d/255", static_cast<int>(std::lround(eps.back() * 255)));
    ctx.report.AddRow(
        {exp, absl::StrCat("targeted FGSM success on the attacked network, mean over ", eps_range),
         Percent(s_mean), headline != nullptr ? "curve only (Fig. 8, dashed)" : "", ""});
    if (has_ensemble) {
      ctx.report.AddRow(
          {exp, absl::StrCat("same examples on an ensemble of ", ensemble_size, " (majority vote)"),
           Percent(t_mean), headline != nullptr ? "curve only (Fig. 8, solid), below single" : "",
           headline != nullptr ? "the paper's protocol" : ""});
      ctx.report.AddRow({exp, "white-box: gradient through the ensemble, tested on it",
                         Percent(w_mean), "", "beyond the paper"});
    }
    const std::string d = ctx.DataRef(name);
    std::string plot = absl::StrFormat(
        "set title '%s: targeted fast gradient sign attack'\nset xlabel 'perturbation "
        "(fraction of the 8-bit range)'\nset ylabel 'success probability'\nset yrange "
        "[0:1]\nset key top left\nset grid\nplot %s skip 1 u 2:3 w lp dt 2 lc rgb '#c03030' t "
        "'single network'",
        members.name, d);
    if (has_ensemble) {
      absl::StrAppendFormat(&plot,
                            ", %s skip 1 u 2:5 w lp lc rgb '#3060c0' t 'ensemble of %d "
                            "(transfer)', %s skip 1 u 2:7 w lp lc rgb '#30a030' t 'ensemble "
                            "(white-box)'",
                            d, ensemble_size, d);
    }
    const std::string png = ctx.Figure(name, 800, 500, plot + "\n");
    ctx.report.AddSection(
        absl::StrCat("Adversarial examples: ", members.name, " (paper 4.2.3, Fig. 8)"),
        absl::StrCat(
            absl::StrFormat(
                "Targeted fast gradient sign method, x' = x - eps sign(grad_x CE(p(x), y')), "
                "target y' != y uniform, no clipping, eps = 0, 2, ..., %d / 255. Attacked: "
                "member 1, on the %d of the first %d test images it classifies correctly. The "
                "same examples are tested on an ensemble of %d other members (majority vote): "
                "the paper's protocol. White-box: the gradient of the ensemble's mean "
                "probability instead. Mean targeted success over eps > 0: single %s, ensemble "
                "(transfer) %s, ensemble (white-box) %s. Data: `%s`.\n\n",
                static_cast<int>(std::lround(eps.back() * 255)), index.numel(), m, ensemble_size,
                Percent(s_mean), has_ensemble ? Percent(t_mean) : "n/a",
                has_ensemble ? Percent(w_mean) : "n/a", *csv),
            FigureLink("adversarial", png)));
    return absl::OkStatus();
  });
}

}  // namespace hnet::eval
