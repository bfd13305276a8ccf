// Accuracy histogram and ensembles (paper sections 4.2.1 and 4.2.2).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/evaluation.h"
#include "core/log.h"
#include "core/torch_status.h"
#include "eval/experiments.h"
#include "eval/progress.h"

namespace hnet::eval {
namespace {

struct RuleAccuracies {
  double vote = 0, mean = 0, confident = 0;
};

RuleAccuracies Rules(const at::Tensor& probs, const at::Tensor& labels) {
  return {core::Accuracy(core::MajorityVote(probs), labels),
          core::Accuracy(core::MeanProbability(probs), labels),
          core::Accuracy(core::MostConfident(probs), labels)};
}

// Accuracy-vs-size table (size, rule means and sds) and figure from per-draw results
// acc[draw][size_index].
std::string SizeCurve(EvalContext& ctx, const std::string& key, const std::string& title,
                      const std::vector<int64_t>& sizes,
                      const std::vector<std::vector<RuleAccuracies>>& acc, Json* json) {
  CsvTable table({"size", "vote_mean", "vote_sd", "mean_prob_mean", "mean_prob_sd",
                  "most_confident_mean", "most_confident_sd", "draws"});
  std::string md =
      "| members | majority vote | mean probability | most confident |\n| --- | --- | --- | --- "
      "|\n";
  Json& rows = json->Set("accuracy_vs_size", Json::Array());
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::vector<double> vote, mean, conf;
    for (const auto& draw : acc) {
      vote.push_back(draw[s].vote);
      mean.push_back(draw[s].mean);
      conf.push_back(draw[s].confident);
    }
    const core::Summary v = core::Summarize(vote), m = core::Summarize(mean),
                        c = core::Summarize(conf);
    table.AddRow({static_cast<double>(sizes[s]), v.mean, v.std, m.mean, m.std, c.mean, c.std,
                  static_cast<double>(acc.size())});
    absl::StrAppend(&md, "| ", sizes[s], " | ", PercentMeanSd(v.mean, v.std), " | ",
                    PercentMeanSd(m.mean, m.std), " | ", PercentMeanSd(c.mean, c.std), " |\n");
    Json row = Json::Object();
    row.Set("size", sizes[s]);
    row.Set("majority_vote", Json::Object()).Set("mean", v.mean);
    row["majority_vote"].Set("sd", v.std);
    row.Set("mean_probability", Json::Object()).Set("mean", m.mean);
    row["mean_probability"].Set("sd", m.std);
    row.Set("most_confident", Json::Object()).Set("mean", c.mean);
    row["most_confident"].Set("sd", c.std);
    rows.Push(std::move(row));
  }
  const std::string name = absl::StrCat(key, "_accuracy_vs_size");
  auto csv = ctx.WriteCsv(name, table);
  if (!csv.ok()) log::Warn("{}", std::string(csv.status().message()));
  const std::string data = ctx.DataRef(name);
  const std::string png = ctx.Figure(
      name, 800, 500,
      absl::StrCat(
          "set title '", title, "'\nset xlabel 'ensemble size'\n",
          "set ylabel 'test accuracy (%)'\nset logscale x\nset key bottom right\n", "set grid\n",
          absl::StrFormat("set xrange [0.8:%g]\n", 1.3 * static_cast<double>(sizes.back())),
          absl::StrFormat("plot %.2f w l dt 2 lc rgb 'gray40' t 'paper 99.14 %%', "
                          "%.2f w l dt 3 lc rgb 'gray60' t 'MNFG 99.28 %%', ",
                          100 * kPaperEnsembleVote, 100 * kMnfgEnsembleVote),
          data, " skip 1 u 1:(100*$2):(100*$3) w yerrorlines lc rgb '#3060c0' t 'majority vote', ",
          data,
          " skip 1 u 1:(100*$4):(100*$5) w yerrorlines lc rgb '#c03030' t 'mean probability', ",
          data,
          " skip 1 u 1:(100*$6):(100*$7) w yerrorlines lc rgb '#30a030' t 'most confident'\n"));
  return absl::StrCat(md, "\n", FigureLink(title, png));
}

}  // namespace

absl::Status RunAccuracy(EvalContext& ctx, const MemberSet& pool, Headline* headline) {
  return core::TorchCall("accuracy histogram", [&]() -> absl::Status {
    const std::vector<double> acc = core::NetworkAccuracies(pool.test_probs, ctx.test.labels);
    const core::Summary s = core::Summarize(acc);
    if (headline != nullptr) headline->mean_single = s.mean;
    CsvTable networks({"network", "accuracy"});
    for (size_t i = 0; i < acc.size(); ++i) networks.AddRow({static_cast<double>(i), acc[i]});
    auto csv = ctx.WriteCsv(absl::StrCat(pool.key, "_network_accuracies"), networks);
    if (!csv.ok()) return csv.status();
    const int bins = 30;
    const double lo = s.min, width = std::max(1e-9, (s.max - s.min) / bins);
    std::vector<int64_t> counts(bins, 0);
    for (double a : acc) counts[std::min(bins - 1, static_cast<int>((a - lo) / width))]++;
    CsvTable hist({"bin_low", "bin_high", "center", "count"});
    for (int b = 0; b < bins; ++b) {
      hist.AddRow({lo + b * width, lo + (b + 1) * width, lo + (b + 0.5) * width,
                   static_cast<double>(counts[b])});
    }
    const std::string hist_name = absl::StrCat(pool.key, "_accuracy_histogram");
    if (auto h = ctx.WriteCsv(hist_name, hist); !h.ok()) return h.status();
    const std::string title =
        headline != nullptr
            ? absl::StrFormat("Test accuracy of %d generated networks (lambda = %g)", acc.size(),
                              headline->lambda)
            : absl::StrFormat("Test accuracy of the %d members of the %s", acc.size(), pool.name);
    const std::string png = ctx.Figure(
        hist_name, 800, 500,
        absl::StrCat("set title '", title, "'\nset xlabel 'test accuracy (%)'\n",
                     "set ylabel 'networks'\nset style fill solid 0.6 border -1\nunset key\n",
                     absl::StrFormat("set boxwidth %.6g\n", 100 * width * 0.9), "plot ",
                     ctx.DataRef(hist_name), " skip 1 u (100*$3):4 w boxes lc rgb '#3060c0'\n"));
    Json& j = ctx.report.data().Set(absl::StrCat(pool.key, "_accuracy"), Json::Object());
    j.Set("networks", static_cast<int64_t>(acc.size()));
    j.Set("test_images", ctx.test.size());
    j.Set("mean", s.mean);
    j.Set("sd", s.std);
    j.Set("min", s.min);
    j.Set("max", s.max);
    const bool hypernet = headline != nullptr;
    const std::string exp = hypernet ? "4.2.1 accuracy" : absl::StrCat("baseline: ", pool.name);
    ctx.report.AddRow(
        {exp, absl::StrCat("mean single-network test accuracy (", acc.size(), " networks)"),
         Percent(s.mean), hypernet ? "histogram only (Fig. 2)" : "",
         hypernet ? "target >= 99.0 % at lambda = 1e5" : ""});
    ctx.report.AddRow(
        {exp, "sd / min / max of single-network accuracy",
         absl::StrFormat("%.2f / %.2f / %.2f %%", 100 * s.std, 100 * s.min, 100 * s.max),
         hypernet ? "histogram only (Fig. 2)" : "", ""});
    ctx.report.AddSection(
        hypernet ? "Accuracy of generated networks (paper 4.2.1, Fig. 2)"
                 : absl::StrCat("Baseline ", pool.name, ": accuracy"),
        absl::StrCat(absl::StrFormat("%d networks%s, each evaluated on "
                                     "%d MNIST test images. Mean %.2f %%, sd %.2f, min %.2f, "
                                     "max %.2f. Data: `%s`.\n\n",
                                     acc.size(), hypernet ? " generated from independent z" : "",
                                     ctx.test.size(), 100 * s.mean, 100 * s.std, 100 * s.min,
                                     100 * s.max, *csv),
                     FigureLink(title, png)));
    return absl::OkStatus();
  });
}

absl::Status RunEnsembles(EvalContext& ctx, const HypernetModel& model, Headline* headline) {
  return core::TorchCall("ensembles", [&]() -> absl::Status {
    const EvalOptions& o = ctx.options;
    at::Generator generator = ctx.Generator("ensembles");
    std::vector<std::vector<RuleAccuracies>> acc;
    CsvTable draws({"ensemble", "size", "vote", "mean_prob", "most_confident"});
    Progress progress("ensembles", o.ensembles, 0.0);
    for (int64_t e = 0; e < o.ensembles; ++e) {
      at::Tensor z = SampleZ(model, o.ensemble_size, generator);
      at::Tensor probs = Predict(model.layout, Generate(model, z), ctx.test.images,
                                 absl::StrCat("ensemble ", e + 1, "/", o.ensembles));
      std::vector<RuleAccuracies> row;
      for (int64_t size : o.ensemble_sizes) {
        row.push_back(Rules(probs.narrow(0, 0, size), ctx.test.labels));
        draws.AddRow({static_cast<double>(e), static_cast<double>(size), row.back().vote,
                      row.back().mean, row.back().confident});
      }
      RuleAccuracies full = Rules(probs, ctx.test.labels);
      if (std::find(o.ensemble_sizes.begin(), o.ensemble_sizes.end(), o.ensemble_size) ==
          o.ensemble_sizes.end()) {
        draws.AddRow({static_cast<double>(e), static_cast<double>(o.ensemble_size), full.vote,
                      full.mean, full.confident});
      }
      row.push_back(full);
      acc.push_back(std::move(row));
      progress.Update(e + 1);
    }
    if (auto csv = ctx.WriteCsv("hypernet_ensemble_draws", draws); !csv.ok()) return csv.status();
    std::vector<double> vote, mean, conf;
    for (const auto& row : acc) {
      vote.push_back(row.back().vote);
      mean.push_back(row.back().mean);
      conf.push_back(row.back().confident);
    }
    const core::Summary v = core::Summarize(vote), m = core::Summarize(mean),
                        c = core::Summarize(conf);
    headline->ensemble_vote = std::make_pair(v.mean, v.std);
    headline->ensembles = o.ensembles;
    headline->ensemble_size = o.ensemble_size;
    Json& j = ctx.report.data().Set("hypernet_ensembles", Json::Object());
    j.Set("ensembles", o.ensembles);
    j.Set("ensemble_size", o.ensemble_size);
    j.Set("test_images", ctx.test.size());
    j.Set("majority_vote", Json::Object()).Set("mean", v.mean);
    j["majority_vote"].Set("sd", v.std);
    j["majority_vote"].Set("per_ensemble", vote);
    j.Set("mean_probability", Json::Object()).Set("mean", m.mean);
    j["mean_probability"].Set("sd", m.std);
    j.Set("most_confident", Json::Object()).Set("mean", c.mean);
    j["most_confident"].Set("sd", c.std);
    std::vector<std::vector<RuleAccuracies>> by_size = acc;
    for (auto& row : by_size) row.pop_back();
    const std::string curve =
        SizeCurve(ctx, "hypernet", "Ensembles of generated networks: accuracy vs size",
                  o.ensemble_sizes, by_size, &j);
    const std::string exp = "4.2.2 ensembles";
    const std::string protocol = absl::StrCat(o.ensembles, " x ", o.ensemble_size);
    ctx.report.AddRow(
        {exp, absl::StrCat("majority vote, ", protocol, " (mean ± sd)"),
         PercentMeanSd(v.mean, v.std), Percent(kPaperEnsembleVote),
         absl::StrCat("paper protocol 20 x 200; MNFG ", Percent(kMnfgEnsembleVote),
                      "; target >= ", Percent(kTargetEnsembleVote), " at lambda = 1e3")});
    ctx.report.AddRow({exp, absl::StrCat("mean probability, ", protocol),
                       PercentMeanSd(m.mean, m.std), "", "beyond the paper"});
    ctx.report.AddRow({exp, absl::StrCat("most confident member, ", protocol),
                       PercentMeanSd(c.mean, c.std), "", "beyond the paper"});
    ctx.report.AddSection(
        "Ensembles of generated networks (paper 4.2.2)",
        absl::StrCat(
            absl::StrFormat("%d ensembles of %d freshly generated networks each, on %d test "
                            "images. Majority vote (the paper's rule): %s (paper %s, MNFG "
                            "%s). Mean probability: %s. Most confident member: %s. Smaller "
                            "ensembles are the first k members of each draw.\n\n",
                            o.ensembles, o.ensemble_size, ctx.test.size(),
                            PercentMeanSd(v.mean, v.std), Percent(kPaperEnsembleVote),
                            Percent(kMnfgEnsembleVote), PercentMeanSd(m.mean, m.std),
                            PercentMeanSd(c.mean, c.std)),
            curve));
    return absl::OkStatus();
  });
}

absl::Status RunMemberEnsembles(EvalContext& ctx, const MemberSet& members) {
  return core::TorchCall(absl::StrCat(members.name, " ensembles"), [&]() -> absl::Status {
    std::vector<int64_t> sizes;
    for (int64_t s : {1, 2, 5, 10, 20, 50, 100, 200}) {
      if (s < members.size()) sizes.push_back(s);
    }
    sizes.push_back(members.size());
    std::vector<RuleAccuracies> draw;
    for (int64_t s : sizes)
      draw.push_back(Rules(members.test_probs.narrow(0, 0, s), ctx.test.labels));
    Json& j = ctx.report.data()[absl::StrCat(members.key, "_ensembles")];
    const RuleAccuracies& all = draw.back();
    j.Set("members", members.size());
    j.Set("majority_vote", all.vote);
    j.Set("mean_probability", all.mean);
    j.Set("most_confident", all.confident);
    const std::string exp = absl::StrCat("baseline: ", members.name);
    ctx.report.AddRow({exp, absl::StrCat("ensemble of all ", members.size(), ", majority vote"),
                       Percent(all.vote), "", "same code as the hypernetwork's ensembles"});
    ctx.report.AddRow({exp, absl::StrCat("ensemble of all ", members.size(), ", mean probability"),
                       Percent(all.mean), "", ""});
    const std::string curve =
        SizeCurve(ctx, members.key, absl::StrCat(members.name, ": accuracy vs ensemble size"),
                  sizes, {draw}, &j);
    ctx.report.AddSection(
        absl::StrCat("Baseline ", members.name, ": ensembles"),
        absl::StrCat("Prefixes of the ", members.size(),
                     " independently trained members (one draw, so sd = 0).\n\n", curve));
    return absl::OkStatus();
  });
}

}  // namespace hnet::eval
