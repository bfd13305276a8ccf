#include "server/service.h"

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/hypernetwork.h"
#include "core/rng.h"
#include "core/torch_status.h"
#include "server/auth.h"
#include "server/call_log.h"
#include "server/generation.h"
#include "server/interpolation.h"
#include "server/request_parsing.h"
#include "server/responses.h"
#include "server/service_call.h"
#include "server/status_util.h"

namespace hnet::server {
namespace {

// Room for tags, lengths and names around the tensor bytes of a message.
constexpr int64_t kMessageOverhead = 64 << 10;

}  // namespace

absl::Status CheckMessageBytes(int64_t bytes, const Limits& limits, absl::string_view hint) {
  if (bytes + kMessageOverhead <= limits.max_message_bytes) return absl::OkStatus();
  return LimitError(absl::StrCat("a response of about ", bytes + kMessageOverhead, " bytes"),
                    limits.max_message_bytes, "--max_message_mb", hint);
}

HyperNetService::HyperNetService(std::shared_ptr<const ModelRegistry> registry, Limits limits,
                                 Executor* executor, ClassifyBatcher* batcher,
                                 EvaluationData* eval_data, Metrics* metrics)
    : registry_(std::move(registry)),
      limits_(limits),
      executor_(executor),
      batcher_(batcher),
      eval_data_(eval_data),
      metrics_(metrics) {}

absl::Status HyperNetService::BeginCall(const grpc::ServerContextBase& context) {
  in_flight_.fetch_add(1);  // Before the check, so that a drain that saw 0 also saw draining_.
  absl::Status status = CallAuthStatus(context);  // Refused calls do no work.
  if (status.ok() && draining_.load()) {
    status = absl::UnavailableError("server is shutting down; retry elsewhere");
  }
  return status;
}

template <typename Body>
grpc::Status HyperNetService::Handle(const char* method, grpc::ServerContext* context, Body body) {
  Call call(method, context, metrics_);
  absl::Status status = BeginCall(*context);
  if (status.ok()) {
    // TorchCall turns any exception that escapes into INTERNAL: a request never ends the process.
    status = core::TorchCall(method, [&]() -> absl::Status { return body(call); });
  }
  EndCall();
  return call.log.Finish(status);
}

grpc::Status HyperNetService::ListModels(grpc::ServerContext* context,
                                         const hnet::v1::ListModelsRequest* request,
                                         hnet::v1::ListModelsResponse* response) {
  return Handle("ListModels", context, [&](Call& call) {
    const std::vector<ModelPtr> models = registry_->models();  // By name, newest first.
    auto page = PageOfModels(models, request->page_size(), request->page_token());
    if (!page.ok()) return page.status();
    std::set<const LoadedModel*> latest;  // The first (newest) version of each name.
    for (size_t i = 0; i < models.size(); ++i) {
      if (i == 0 || models[i - 1]->name != models[i]->name) latest.insert(models[i].get());
    }
    for (const ModelPtr& model : page->models) {
      *response->add_models() = InfoOf(*model, latest.count(model.get()) != 0);
    }
    response->set_next_page_token(page->next_page_token);
    call.log.set_size(response->models_size());
    return absl::OkStatus();
  });
}

grpc::Status HyperNetService::GetModelInfo(grpc::ServerContext* context,
                                           const hnet::v1::GetModelInfoRequest* request,
                                           hnet::v1::ModelInfo* response) {
  return Handle("GetModelInfo", context, [&](Call& call) {
    auto model = call.Model(*registry_, request->model(), request->version());
    if (!model.ok()) return model.status();
    auto latest = registry_->Find(request->model());
    *response = InfoOf(**model, latest.ok() && *latest == *model);
    return absl::OkStatus();
  });
}

grpc::Status HyperNetService::StreamWeights(
    grpc::ServerContext* context, const hnet::v1::SampleWeightsRequest* request,
    grpc::ServerWriter<hnet::v1::GeneratedNetwork>* writer) {
  return Handle("StreamWeights", context,
                [&](Call& call) { return DoStreamWeights(call, *request, writer); });
}

grpc::Status HyperNetService::Classify(grpc::ServerContext* context,
                                       const hnet::v1::ClassifyRequest* request,
                                       hnet::v1::ClassifyResponse* response) {
  return Handle("Classify", context,
                [&](Call& call) { return DoClassify(call, *request, response); });
}

grpc::Status HyperNetService::InterpolatePath(grpc::ServerContext* context,
                                              const hnet::v1::InterpolatePathRequest* request,
                                              hnet::v1::InterpolatePathResponse* response) {
  return Handle("InterpolatePath", context,
                [&](Call& call) { return DoInterpolatePath(call, *request, response); });
}

absl::Status HyperNetService::DoStreamWeights(
    Call& call, const hnet::v1::SampleWeightsRequest& request,
    grpc::ServerWriter<hnet::v1::GeneratedNetwork>* writer) {
  auto model = call.Model(*registry_, request.model(), request.version());
  if (!model.ok()) return model.status();
  if (request.permutation_gauge() && !request.gauge_fixed()) {
    return FieldError("permutation_gauge", "requires gauge_fixed");
  }
  auto noise = ParseNoise(request.noise(), "noise", request.n(), "n",
                          {limits_.max_stream_networks, "--max_stream_networks", ""}, **model);
  if (!noise.ok()) return noise.status();
  call.log.set_size(noise->count);
  if (absl::Status s = CheckMessageBytes(WeightBytes(**model, 1), limits_, ""); !s.ok()) return s;
  // Each stream holds a gRPC thread and a chunk of work for as long as its client reads.
  struct StreamSlot {
    std::atomic<int64_t>* streams;
    ~StreamSlot() { streams->fetch_sub(1); }
  };
  if (streams_.fetch_add(1) >= limits_.max_streams) {
    streams_.fetch_sub(1);
    return absl::ResourceExhaustedError(
        absl::StrCat("server busy: ", limits_.max_streams,
                     " StreamWeights calls are being served (--max_streams); retry later"));
  }
  const StreamSlot slot{&streams_};
  const StopCheck stop = call.Stop();
  // A seed's z is drawn a chunk at a time from one generator: SampleZ draws row i the same
  // whatever the number of rows, so the rows equal one draw of all n (tested), and a stream
  // holds one chunk of z rather than n rows.
  static_assert(kGenerationChunk % 16 == 0, "SampleZ's NORMAL draws whole blocks of 16 values");
  auto generator = std::make_shared<at::Generator>();
  if (noise->seed.has_value()) *generator = core::MakeGenerator(*noise->seed);
  const GaugeOptions gauge{request.gauge_fixed(), request.permutation_gauge()};
  for (int64_t begin = 0; begin < noise->count; begin += kGenerationChunk) {
    const int64_t end = std::min(noise->count, begin + kGenerationChunk);
    auto run_chunk = [&] {
      return RunOn<std::vector<hnet::v1::GeneratedNetwork>>(
          *executor_, stop,
          [model = *model, noise = *noise, generator, begin, end, gauge,
           return_z = request.return_z()](const Cancellation& cancellation)
              -> absl::StatusOr<std::vector<hnet::v1::GeneratedNetwork>> {
            auto z = core::TorchCall("drawing noise", [&] {
              return noise.seed.has_value() ? model->network->SampleZ(end - begin, *generator)
                                            : noise.z.slice(0, begin, end);
            });
            if (!z.ok()) return z.status();
            const at::Tensor& zc = *z;
            auto weights = GenerateWeights(*model, zc, gauge, &cancellation);
            if (!weights.ok()) return weights.status();
            return core::TorchCall("encoding weights", [&] {
              std::vector<hnet::v1::GeneratedNetwork> out(zc.size(0));
              for (int64_t i = 0; i < zc.size(0); ++i) {
                out[i].set_index(static_cast<int32_t>(begin + i));
                *out[i].mutable_model() = VersionOf(*model);
                if (return_z) *out[i].mutable_z() = core::TensorToProto(zc[i]);
                AppendLayers(*model, SelectNetwork(*weights, i), out[i].mutable_layers());
              }
              return out;
            });
          },
          call.log.timer());
    };
    auto chunk = run_chunk();
    // Once networks went out, a full queue delays the stream rather than ending it halfway.
    while (begin > 0 && IsQueueFull(chunk.status())) {
      if (absl::Status s = stop(); !s.ok()) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      chunk = run_chunk();
    }
    if (!chunk.ok()) return chunk.status();
    call.Generated(**model, end - begin);
    for (const hnet::v1::GeneratedNetwork& network : *chunk) {
      if (!writer->Write(network)) return absl::CancelledError("the client stopped reading");
    }
    if (absl::Status s = stop(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status HyperNetService::DoClassify(Call& call, const hnet::v1::ClassifyRequest& request,
                                         hnet::v1::ClassifyResponse* response) {
  auto model = call.Model(*registry_, request.model(), request.version());
  if (!model.ok()) return model.status();
  if (!hnet::v1::EnsembleRule_IsValid(request.rule())) {
    return FieldError("rule", absl::StrCat("unknown value ", request.rule()));
  }
  auto images = ParseImages(request.inputs(), "inputs", (*model)->layout,
                            {limits_.max_inputs, "--max_inputs", ""});
  if (!images.ok()) return images.status();
  call.log.set_size(images->size(0));
  auto noise = ParseNoise(request.noise(), "noise", request.ensemble_size(), "ensemble_size",
                          {limits_.max_ensemble_size, "--max_ensemble_size", ""}, **model);
  if (!noise.ok()) return noise.status();
  const int64_t n = images->size(0);
  const int64_t classes = (*model)->layout.num_classes();
  const int64_t bytes =
      n * (classes * 10 + 32) + (request.return_members() ? noise->count * n * 4 : 0);
  if (absl::Status s = CheckMessageBytes(bytes, limits_, "; send fewer inputs"); !s.ok()) return s;

  ClassifyJob job;
  job.model = *model;
  job.noise = *std::move(noise);
  job.images = *std::move(images);
  job.rule = request.rule() == hnet::v1::ENSEMBLE_RULE_UNSPECIFIED ? hnet::v1::MEAN_PROBABILITY
                                                                   : request.rule();
  job.return_members = request.return_members();
  job.timer = call.log.timer();
  std::shared_ptr<Cancellation> cancellation = job.cancellation;
  auto result = batcher_->Submit(std::move(job))->Wait(call.Stop(), cancellation.get());
  if (!result.ok()) return result.status();
  *response->mutable_model() = VersionOf(**model);
  return core::TorchCall("encoding predictions", [&] { FillClassifyResponse(*result, response); });
}

absl::Status HyperNetService::DoInterpolatePath(Call& call,
                                                const hnet::v1::InterpolatePathRequest& request,
                                                hnet::v1::InterpolatePathResponse* response) {
  auto model = call.Model(*registry_, request.model(), request.version());
  if (!model.ok()) return model.status();
  if (request.points() < 2) {
    return FieldError("points", absl::StrCat("must be >= 2, got ", request.points()));
  }
  if (request.points() > limits_.max_path_points) {
    return LimitError(absl::StrCat("points = ", request.points()), limits_.max_path_points,
                      "--max_path_points");
  }
  using Mode = hnet::v1::InterpolatePathRequest;
  if (!Mode::Mode_IsValid(request.mode())) {
    return FieldError("mode", absl::StrCat("unknown value ", request.mode()));
  }
  PathRequest path;
  path.model = *model;
  path.points = request.points();
  path.direct = request.mode() != Mode::INTERPOLATED;
  path.interpolated = request.mode() != Mode::DIRECT;
  auto start =
      core::TorchCall("start", [&] { return ParseEndpoint(request.start(), "start", **model); });
  if (!start.ok()) return start.status();
  auto end = core::TorchCall("end", [&] { return ParseEndpoint(request.end(), "end", **model); });
  if (!end.ok()) return end.status();
  path.start = *start;
  path.end = *end;
  if (request.has_inputs() != request.has_labels()) {
    return request.has_inputs() ? FieldError("labels", "required with inputs")
                                : FieldError("inputs", "required with labels");
  }
  if (request.has_inputs()) {
    auto images = ParseImages(request.inputs(), "inputs", (*model)->layout,
                              {limits_.max_inputs, "--max_inputs", ""});
    if (!images.ok()) return images.status();
    auto labels =
        ParseLabels(request.labels(), "labels", images->size(0), (*model)->layout.num_classes());
    if (!labels.ok()) return labels.status();
    path.images = *images;
    path.labels = *labels;
  }
  const int64_t paths = (path.direct ? 1 : 0) + (path.interpolated ? 1 : 0);
  // Networks the hypernetwork generates: both endpoints for the direct path, every point
  // for the interpolated one.
  const int64_t generated = (path.direct ? 2 : 0) + (path.interpolated ? path.points : 0);
  if (request.return_weights()) {
    if (absl::Status s = CheckMessageBytes(WeightBytes(**model, path.points * paths), limits_,
                                           "; request fewer points or no weights");
        !s.ok()) {
      return s;
    }
  }
  auto result = RunOn<hnet::v1::InterpolatePathResponse>(
      *executor_, call.Stop(),
      [path = std::move(path), eval_data = eval_data_, max_inputs = limits_.max_inputs,
       return_weights = request.return_weights()](const Cancellation& cancellation) mutable
      -> absl::StatusOr<hnet::v1::InterpolatePathResponse> {
        const core::TargetLayout& layout = path.model->layout;
        if (path.images.defined()) {
          auto images = NormalizeImages(path.images, "inputs");
          if (!images.ok()) return images.status();
          path.images = *images;
        } else {
          auto split = eval_data->TestSplit(path.model->dataset);
          if (!split.ok()) return split.status();
          if (split->images.size(0) > max_inputs) {  // The split is inputs too.
            return LimitError(
                absl::StrCat("the server's evaluation split of ", split->images.size(0), " images"),
                max_inputs, "--max_inputs", "; send at most that many inputs and labels");
          }
          if (split->images.size(1) != layout.input_channels() ||
              split->images.size(2) != layout.input_height() ||
              split->images.size(3) != layout.input_width()) {
            return absl::FailedPreconditionError(
                "the server's evaluation split does not match the model's input shape; send "
                "inputs and labels");
          }
          path.images = split->images;
          path.labels = split->labels;
        }
        auto computed = ComputePath(path, &cancellation);
        if (!computed.ok()) return computed.status();
        hnet::v1::InterpolatePathResponse out;
        absl::Status filled = core::TorchCall("encoding the path", [&] {
          FillPathResponse(*path.model, *computed, path.images.size(0), return_weights, &out);
        });
        if (!filled.ok()) return filled;
        return out;
      },
      call.log.timer());
  if (!result.ok()) return result.status();
  call.Generated(**model, generated);
  call.log.set_size(result->evaluated_inputs());
  response->Swap(&*result);
  *response->mutable_model() = VersionOf(**model);
  return absl::OkStatus();
}

}  // namespace hnet::server
