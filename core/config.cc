#include "core/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/target_spec.h"

namespace hnet::core {
namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    errors_.push_back(absl::StrCat("line ", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {}
  std::string Joined() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::vector<std::string> errors_;
};

// Clears each repeated field of *to that `from` sets, looking inside the singular messages
// `from` sets, so that merging `from`'s text afterwards replaces those lists.
void ClearListsSetIn(const google::protobuf::Message& from, google::protobuf::Message* to) {
  const google::protobuf::Reflection* reflection = from.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(from, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->is_repeated()) {
      to->GetReflection()->ClearField(to, field);
    } else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      ClearListsSetIn(reflection->GetMessage(from, field),
                      to->GetReflection()->MutableMessage(to, field));
    }
  }
}

}  // namespace

absl::Status ApplyConfigOverride(const std::string& text, hnet::v1::TrainingConfig* config) {
  absl::StatusOr<hnet::v1::TrainingConfig> fragment = ParseConfig(text);
  if (!fragment.ok()) return fragment.status();
  hnet::v1::TrainingConfig merged = *config;
  ClearListsSetIn(*fragment, &merged);
  // Merging the text itself, not the parsed fragment, keeps explicit zeros ("scale_gauge:
  // false"), which proto3 messages do not record.
  google::protobuf::TextFormat::Parser parser;
  if (!parser.MergeFromString(text, &merged)) {
    return absl::InvalidArgumentError(absl::StrCat("config fragment '", text, "' does not merge"));
  }
  *config = std::move(merged);
  return absl::OkStatus();
}

absl::StatusOr<hnet::v1::TrainingConfig> ParseConfig(const std::string& text) {
  hnet::v1::TrainingConfig config;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", errors.Joined()));
  }
  return config;
}

std::string ShippedConfigNames() {
  std::vector<std::string> names;
  for (const auto& entry : ShippedConfigs()) names.push_back(entry.first);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<hnet::v1::TrainingConfig> LoadConfig(const std::string& name_or_path) {
  for (const auto& [name, text] : ShippedConfigs()) {
    if (name == name_or_path) return ParseConfig(text);
  }
  std::error_code ec;
  if (std::filesystem::is_directory(name_or_path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config '", name_or_path, "' is a directory, not a textproto file"));
  }
  std::ifstream in(name_or_path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("config '", name_or_path,
                                            "' is neither a shipped config (", ShippedConfigNames(),
                                            ") nor a readable file"));
  }
  // Configs are a few hundred bytes; the cap keeps e.g. --config /dev/zero from reading forever.
  constexpr std::streamsize kMaxConfigBytes = 1 << 20;
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), kMaxConfigBytes + 1);
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat("config '", name_or_path, "': read error"));
  }
  if (in.gcount() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("config '", name_or_path, "' is larger than 1 MiB; is it a config?"));
  }
  text.resize(static_cast<size_t>(in.gcount()));
  auto config = ParseConfig(text);
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name_or_path, ": ", config.status().message()));
  }
  return config;
}

hnet::v1::TrainingConfig WithDefaults(const hnet::v1::TrainingConfig& in) {
  hnet::v1::TrainingConfig c = in;
  if (!c.has_seed()) c.set_seed(8734);
  if (c.lambda() == 0) c.set_lambda(1e3);
  if (c.lambda_growth() == 0) c.set_lambda_growth(1.0);
  if (c.batch_networks() == 0) c.set_batch_networks(32);
  if (c.images_per_network() == 0) c.set_images_per_network(32);
  auto* opt = c.mutable_optimizer();
  if (opt->learning_rate() == 0) opt->set_learning_rate(3e-4);
  if (opt->decay_per_step() == 0) opt->set_decay_per_step(1.0);
  if (opt->beta1() == 0) opt->set_beta1(0.9);
  if (opt->beta2() == 0) opt->set_beta2(0.999);
  if (opt->epsilon() == 0) opt->set_epsilon(1e-8);
  auto* eval = c.mutable_eval();
  if (eval->networks() == 0) eval->set_networks(200);
  if (c.has_toy()) return c;

  if (c.target().layers().empty()) *c.mutable_target() = MnistTargetSpec();
  auto* h = c.mutable_hypernet();
  // The paper's extractor and generator widths belong to its target network (Table 1), so
  // they are filled in only for that target, and only when no generator is given (a config
  // that lists generators chose its own extractor, an empty one included).
  if (h->generators().empty() &&
      google::protobuf::util::MessageDifferencer::Equals(c.target(), MnistTargetSpec())) {
    if (h->extractor_hidden().empty()) {
      h->add_extractor_hidden(300);
      h->add_extractor_hidden(300);
    }
    for (int width : {40, 100, 100, 60}) {
      auto* g = h->add_generators();
      g->add_hidden(width);
      g->add_hidden(width);
    }
  }
  if (h->z_dim() == 0) h->set_z_dim(300);
  if (h->z_distribution() == hnet::v1::HyperNetConfig::Z_DISTRIBUTION_UNSPECIFIED) {
    h->set_z_distribution(hnet::v1::HyperNetConfig::UNIFORM);
  }
  if (h->code_size() == 0) h->set_code_size(15);
  if (h->leaky_relu_slope() == 0) h->set_leaky_relu_slope(0.05);
  if (h->batch_norm_decay() == 0) h->set_batch_norm_decay(0.98);
  if (h->batch_norm_epsilon() == 0) h->set_batch_norm_epsilon(1e-7);
  if (h->init_scale() == 0) h->set_init_scale(0.01);
  auto* d = c.mutable_diversity();
  if (d->kind() == hnet::v1::DiversityConfig::KIND_UNSPECIFIED) {
    d->set_kind(hnet::v1::DiversityConfig::ENTROPY);
  }
  if (d->metric() == hnet::v1::DiversityConfig::METRIC_UNSPECIFIED) {
    d->set_metric(hnet::v1::DiversityConfig::L2);
  }
  if (c.data().dataset() == hnet::v1::DataConfig::DATASET_UNSPECIFIED) {
    c.mutable_data()->set_dataset(hnet::v1::DataConfig::MNIST);
  }
  if (c.data().validation_size() == 0) c.mutable_data()->set_validation_size(5000);
  return c;
}

namespace {

// The first floating-point field of `message` (recursively) that is NaN or infinite, as a
// dotted path ("optimizer.learning_rate"); empty when all are finite.
std::string FirstNonFiniteField(const google::protobuf::Message& message,
                                const std::string& prefix) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = prefix + field->name();
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string path = field->is_repeated() ? absl::StrCat(name, "[", i, "]") : name;
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_DOUBLE: {
          const double v = field->is_repeated() ? reflection->GetRepeatedDouble(message, field, i)
                                                : reflection->GetDouble(message, field);
          if (!std::isfinite(v)) return path;
          break;
        }
        case FieldDescriptor::CPPTYPE_FLOAT: {
          const float v = field->is_repeated() ? reflection->GetRepeatedFloat(message, field, i)
                                               : reflection->GetFloat(message, field);
          if (!std::isfinite(v)) return path;
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          const google::protobuf::Message& sub =
              field->is_repeated() ? reflection->GetRepeatedMessage(message, field, i)
                                   : reflection->GetMessage(message, field);
          std::string found = FirstNonFiniteField(sub, path + ".");
          if (!found.empty()) return found;
          break;
        }
        default:
          break;
      }
    }
  }
  return "";
}

}  // namespace

absl::Status ValidateConfig(const hnet::v1::TrainingConfig& c) {
  auto bad = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("config field ", field, ": ", why));
  };
  // NaN passes every range check below (each comparison is false), so it is refused first.
  if (std::string field = FirstNonFiniteField(c, ""); !field.empty()) {
    return bad(field, "must be finite");
  }
  if (c.steps() < 0) return bad("steps", "must be >= 0");
  if (c.lambda() <= 0) return bad("lambda", "must be > 0");
  if (c.lambda_growth() <= 0) return bad("lambda_growth", "must be > 0");
  if (c.batch_networks() < 2) return bad("batch_networks", "must be >= 2 (entropy needs pairs)");
  if (c.images_per_network() < 1) return bad("images_per_network", "must be >= 1");
  if (c.optimizer().learning_rate() <= 0) return bad("optimizer.learning_rate", "must be > 0");
  if (c.optimizer().decay_per_step() <= 0 || c.optimizer().decay_per_step() > 1) {
    return bad("optimizer.decay_per_step", "must be in (0, 1]");
  }
  if (c.optimizer().beta1() < 0 || c.optimizer().beta1() >= 1) {
    return bad("optimizer.beta1", "must be in [0, 1)");
  }
  if (c.optimizer().beta2() < 0 || c.optimizer().beta2() >= 1) {
    return bad("optimizer.beta2", "must be in [0, 1)");
  }
  if (c.optimizer().anneal_steps() < 0) return bad("optimizer.anneal_steps", "must be >= 0");
  if (!(c.optimizer().anneal_final_fraction() >= 0 && c.optimizer().anneal_final_fraction() <= 1)) {
    return bad("optimizer.anneal_final_fraction", "must be in [0, 1]");
  }
  if (c.eval().every_steps() < 0) return bad("eval.every_steps", "must be >= 0");
  if (c.eval().checkpoint_every() < 0) return bad("eval.checkpoint_every", "must be >= 0");
  if (c.eval().networks() < 1) return bad("eval.networks", "must be >= 1");
  if (c.has_toy()) return absl::OkStatus();

  auto layout = TargetLayout::Create(c.target());
  if (!layout.ok()) return layout.status();
  const auto& h = c.hypernet();
  if (h.z_dim() <= 0) return bad("hypernet.z_dim", "must be > 0");
  if (h.code_size() <= 0) return bad("hypernet.code_size", "must be > 0");
  for (int i = 0; i < h.extractor_hidden_size(); ++i) {
    if (h.extractor_hidden(i) <= 0) return bad("hypernet.extractor_hidden", "must be > 0");
  }
  if (h.generators_size() != layout->num_layers()) {
    return bad("hypernet.generators",
               absl::StrCat("needs one entry per target layer (", layout->num_layers(), "), got ",
                            h.generators_size()));
  }
  for (const auto& g : h.generators()) {
    for (int width : g.hidden()) {
      if (width <= 0) return bad("hypernet.generators.hidden", "must be > 0");
    }
  }
  if (h.batch_norm_decay() <= 0 || h.batch_norm_decay() >= 1) {
    return bad("hypernet.batch_norm_decay", "must be in (0, 1)");
  }
  if (c.diversity().entropy_dim() < 0) return bad("diversity.entropy_dim", "must be >= 0");
  if (c.data().validation_size() < 1) return bad("data.validation_size", "must be >= 1");
  const int64_t smallest_side = std::min(layout->input_height(), layout->input_width());
  if (c.data().max_shift() < 0 || c.data().max_shift() >= smallest_side) {
    return bad("data.max_shift", absl::StrCat("must be in [0, ", smallest_side, ")"));
  }
  return absl::OkStatus();
}

}  // namespace hnet::core
