// Baselines on the same target architecture (one conventionally trained network, deep
// ensembles), evaluated by the same code as the hypernetwork's generated networks.
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/evaluation.h"
#include "core/log.h"
#include "core/torch_status.h"
#include "core/weight_ensemble.h"
#include "eval/experiments.h"

namespace hnet::eval {

absl::Status RunBaseline(EvalContext& ctx, const std::string& path,
                         const core::WeightEnsemble& ensemble, int index, Headline* headline) {
  auto layout = core::TargetLayout::Create(ensemble.spec);
  if (!layout.ok()) {
    return absl::DataLossError(absl::StrCat("baseline ", path, ": ", layout.status().message()));
  }
  MemberSet members;
  const int64_t n = ensemble.weights.size(0);
  // Shift-augmented baselines (data.max_shift) are told apart from plain ones in every table:
  // "deep ensemble (20)", "deep ensemble (20, shifts 2 px)", "single trained network".
  const int32_t shift = ensemble.config.data().max_shift();
  std::string detail = n == 1 ? "" : absl::StrCat(n);
  if (shift > 0) absl::StrAppend(&detail, detail.empty() ? "" : ", ", "shifts ", shift, " px");
  members.name = absl::StrCat(n == 1 ? "single trained network" : "deep ensemble",
                              detail.empty() ? "" : absl::StrCat(" (", detail, ")"));
  members.key = absl::StrCat("baseline", index, n == 1 ? "_single" : absl::StrCat("_", n));
  members.layout = *layout;
  absl::Status status = core::TorchCall(absl::StrCat("baseline ", path), [&]() -> absl::Status {
    members.weights = core::UnflattenWeights(*layout, ensemble.weights.to(ctx.device));
    members.test_probs = Predict(*layout, members.weights, ctx.test.images, members.name);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  Json entry = Json::Object();
  entry.Set("path", path);
  entry.Set("name", members.name);
  entry.Set("key", members.key);
  entry.Set("members", n);
  entry.Set("description", ensemble.description);
  ctx.report.data()["baselines"].Push(std::move(entry));
  ctx.report.AddSection(absl::StrCat("Baseline: ", members.name),
                        absl::StrFormat("File `%s`: %d network(s) on the target architecture "
                                        "(%s). Evaluated with the same code as the "
                                        "hypernetwork's networks below.\n\n",
                                        path, n, ensemble.description));
  const EvalOptions& o = ctx.options;
  if (absl::Status s = RunAccuracy(ctx, members, nullptr); !s.ok()) return s;
  if (n >= 2) {
    if (absl::Status s = RunMemberEnsembles(ctx, members); !s.ok()) return s;
    if (o.Runs("diversity")) {
      if (absl::Status s = RunDiversity(ctx, members, nullptr); !s.ok()) return s;
    }
  }
  if (o.Runs("calibration")) {
    if (absl::Status s = RunCalibration(ctx, members); !s.ok()) return s;
  }
  if (o.Runs("ood") && ctx.ood.size() > 0) {
    double auroc = 0;
    if (absl::Status s = RunOod(ctx, members, &auroc); !s.ok()) return s;
    headline->baseline_ood_auroc.emplace_back(members.name, auroc);
  }
  if (o.Runs("adversarial")) {
    if (absl::Status s = RunAdversarial(ctx, members, nullptr); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace hnet::eval
