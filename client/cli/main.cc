// hnet: command-line client of hnet-server (info, sample, classify, path).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/cli/security.h"
#include "client/cli/signals.h"
#include "client/client.h"
#include "flags/flags.h"

namespace {

// A number above 0 that is neither infinite nor NaN.
const CLI::Validator kPositiveFinite(
    [](std::string& value) -> std::string {
      double v = 0;
      if (!CLI::detail::lexical_cast(value, v) || !std::isfinite(v) || v <= 0) {
        return "must be a positive, finite number of seconds, got " + value;
      }
      return "";
    },
    "POSITIVE FINITE");

int Fail(const absl::Status& status) {
  std::cerr << "hnet: " << status << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // A write interrupted by SIGINT/SIGTERM leaves no temporary file behind.
  hnet::cli::InstallTemporaryFileCleanup();
  CLI::App app{"hnet: sample networks from, and classify with, a running hnet-server"};
  app.require_subcommand(1);
  std::vector<std::string> servers;
  std::string model;
  double deadline_s = 30;
  int max_attempts = 4;
  const char* env_server = std::getenv("HNET_SERVER");
  CLI::Option* server_option =
      app.add_option("--server", servers,
                     "Server host:port; repeat (or comma-separate) to balance round-robin "
                     "(default $HNET_SERVER or localhost:50051)")
          ->delimiter(',')
          ->allow_extra_args(false);
  app.add_option("--model", model, "Model name (default: the server's only model)");
  int64_t model_version = 0;
  app.add_option("--model_version", model_version,
                 "Model version to use (default 0: the latest the server has loaded)")
      ->check(hnet::flags::IntAtLeast(0));
  app.add_option("--deadline", deadline_s, "Seconds per call, retries included")
      ->capture_default_str()
      ->check(kPositiveFinite);
  app.add_option("--max_attempts", max_attempts, "Attempts when the server is unavailable")
      ->capture_default_str()
      ->check(hnet::flags::IntAtLeast(1));
  double max_message_mb = 64;
  app.add_option("--max_message_mb", max_message_mb,
                 "Largest message sent or received, MiB (raise it with the server's for large -n)")
      ->capture_default_str()
      ->check(hnet::flags::FiniteInRange(1.0 / (1 << 20), 2047.0));
  hnet::cli::SecurityArgs security;
  app.add_option("--tls_ca", security.tls_ca, "PEM CA certificates that verify the server (TLS)");
  app.add_option("--tls_cert", security.tls_cert, "PEM client certificate chain (mutual TLS)");
  app.add_option("--tls_key", security.tls_key, "PEM private key of --tls_cert");
  app.add_option("--token_file", security.token_file,
                 "File holding the server's bearer token (default $HNET_TOKEN_FILE)")
      ->envname("HNET_TOKEN_FILE");
  app.add_option("--tls_server_name", security.tls_server_name,
                 "Host name the server certificates must hold (default: the first --server host)");

  CLI::App* info = app.add_subcommand("info", "Print the model (or every model) description");

  hnet::cli::SampleArgs sample_args;
  CLI::App* sample = app.add_subcommand("sample", "Generate networks and write their weights");
  sample->add_option("-n", sample_args.n, "Networks to generate (default 1)");
  sample->add_option("--seed", sample_args.seed, "Noise seed (default 0)");
  sample->add_option("--z", sample_args.z_file,
                     "Noise vectors: .npy float32/float64 [n, z_dim] ([z_dim]: one network)");
  sample->add_flag("--gauge_fixed", sample_args.gauge_fixed,
                   "Apply the scale and logits-bias gauge (server side)");
  sample->add_flag("--permutation_gauge", sample_args.permutation_gauge,
                   "Also sort filters (implies --gauge_fixed)");
  sample->add_flag("--return_z", sample_args.return_z, "Also write z");
  sample->add_option("--out_dir", sample_args.out_dir, "Write <layer>.npy files here");
  sample->add_option("--npz", sample_args.npz, "Write one .npz file");
  sample->add_option("--pt", sample_args.pt, "Write one .pt file (torch.load)");

  hnet::cli::ClassifyArgs classify_args;
  CLI::App* classify = app.add_subcommand("classify", "Classify images with an ensemble");
  classify->add_option("--images", classify_args.images, "IDX(.gz) file or PNG files")->required();
  classify->add_option("--labels", classify_args.labels, "IDX(.gz) labels: report accuracy");
  classify->add_option("-k,--ensemble_size", classify_args.ensemble_size, "Members")
      ->capture_default_str()
      ->check(hnet::flags::IntAtLeast(1));
  classify->add_option("--seed", classify_args.seed, "Noise seed")->capture_default_str();
  classify->add_option("--rule", classify_args.rule, "mean, vote or confident")
      ->capture_default_str();
  classify->add_option("--limit", classify_args.limit, "Use the first N inputs (0: all)")
      ->check(hnet::flags::IntAtLeast(0));
  classify->add_option("--batch", classify_args.batch, "Inputs per request")
      ->check(hnet::flags::IntAtLeast(1))
      ->capture_default_str();
  classify->add_option("--show", classify_args.show, "Predictions to print")
      ->capture_default_str()
      ->check(hnet::flags::IntAtLeast(0));

  hnet::cli::PathArgs path_args;
  CLI::App* path = app.add_subcommand("path", "Accuracy along paths between two networks");
  path->add_option("--start_seed", path_args.start_seed, "Seed of the first network")
      ->capture_default_str();
  path->add_option("--end_seed", path_args.end_seed, "Seed of the second network")
      ->capture_default_str();
  path->add_option("--points", path_args.points, "Points, endpoints included")
      ->capture_default_str()
      ->check(hnet::flags::IntAtLeast(2));
  path->add_option("--mode", path_args.mode, "both, direct or interpolated")->capture_default_str();
  path->add_option("--images", path_args.images, "IDX(.gz) inputs (default: server's split)");
  path->add_option("--labels", path_args.labels, "IDX(.gz) labels of --images");
  path->add_option("--limit", path_args.limit, "Use the first N of --images (0: all)")
      ->check(hnet::flags::IntAtLeast(0));
  path->add_option("--csv", path_args.csv, "Write t,direct_accuracy,interpolated_accuracy");
  hnet::flags::RequireDecimalIntegers(app);
  CLI11_PARSE(app, argc, argv);
  sample_args.model_version = model_version;
  classify_args.model_version = model_version;
  path_args.model_version = model_version;

  // Argument and output path errors first: before any connection, retry or model lookup.
  absl::Status checked;
  if (sample->parsed()) {
    checked = hnet::cli::CheckSampleArgs(sample_args);
    if (checked.ok()) checked = hnet::cli::CheckSampleOutputs(sample_args);
  }
  if (classify->parsed()) checked = hnet::cli::CheckClassifyArgs(classify_args);
  if (path->parsed()) {
    checked = hnet::cli::CheckPathArgs(path_args);
    if (checked.ok()) checked = hnet::cli::CheckPathOutputs(path_args);
  }
  if (info->parsed()) {
    checked = hnet::cli::CheckModelVersion(model_version);
    if (checked.ok() && model.empty() && model_version != 0) {
      checked = absl::InvalidArgumentError("--model_version: give --model too");
    }
  }
  absl::StatusOr<std::vector<std::string>> addresses = hnet::cli::ServerAddresses(
      server_option->count() > 0 ? std::make_optional(servers) : std::nullopt, env_server);
  if (checked.ok()) checked = addresses.status();
  if (!checked.ok()) return Fail(checked);

  hnet::client::ClientOptions options;
  options.addresses = *std::move(addresses);
  options.deadline = absl::Seconds(deadline_s);
  options.max_message_bytes = static_cast<int64_t>(max_message_mb * (1 << 20));
  options.max_attempts = max_attempts;
  if (absl::Status s = hnet::cli::ApplySecurityArgs(security, &options); !s.ok()) return Fail(s);
  absl::StatusOr<std::unique_ptr<hnet::client::Client>> client =
      hnet::client::Client::Connect(options);
  if (!client.ok()) return Fail(client.status());

  if (info->parsed()) {
    absl::Status s = hnet::cli::RunInfo(**client, model, model_version, std::cout);
    return s.ok() ? 0 : Fail(s);
  }
  absl::StatusOr<std::string> resolved = hnet::cli::ResolveModel(**client, model);
  if (!resolved.ok()) return Fail(resolved.status());
  absl::Status s;
  if (sample->parsed()) s = hnet::cli::RunSample(**client, *resolved, sample_args, std::cout);
  if (classify->parsed()) {
    s = hnet::cli::RunClassify(**client, *resolved, classify_args, std::cout);
  }
  if (path->parsed()) s = hnet::cli::RunPath(**client, *resolved, path_args, std::cout);
  return s.ok() ? 0 : Fail(s);
}
