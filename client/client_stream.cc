// Client::StreamWeights and the *Async calls.
#include <grpcpp/support/sync_stream.h>

#include <utility>

#include "client/client.h"
#include "client/internal/client_impl.h"
#include "client/internal/convert.h"

namespace hnet::client {

absl::Status Client::StreamWeights(
    absl::string_view model, const SampleOptions& options,
    const std::function<absl::Status(GeneratedNetwork network)>& on_network) const {
  if (absl::Status s = ValidateSampleOptions(options); !s.ok()) return s;
  const hnet::v1::SampleWeightsRequest request = internal::MakeSampleRequest(model, options);
  const absl::Time deadline = absl::Now() + impl_->options().deadline;
  absl::Status failure;  // set when a network is malformed or on_network fails
  grpc::Status status = internal::CallWithRetry(
      impl_->options(), deadline,
      [&](grpc::ClientContext* context, bool* retryable) {
        std::unique_ptr<grpc::ClientReader<hnet::v1::GeneratedNetwork>> reader =
            impl_->stub().StreamWeights(context, request);
        hnet::v1::GeneratedNetwork message;
        while (failure.ok() && reader->Read(&message)) {
          *retryable = false;  // never deliver a network twice
          absl::StatusOr<GeneratedNetwork> network = internal::FromProto(std::move(message));
          failure = network.ok() ? on_network(*std::move(network)) : network.status();
          if (!failure.ok()) context->TryCancel();
        }
        if (!failure.ok()) {
          while (reader->Read(&message)) {
          }
        }
        return reader->Finish();
      },
      &impl_->calls());
  if (!failure.ok()) return failure;
  return internal::FromGrpcStatus(status);
}

absl::StatusOr<std::vector<GeneratedNetwork>> Client::StreamWeights(
    absl::string_view model, const SampleOptions& options) const {
  std::vector<GeneratedNetwork> networks;
  absl::Status s = StreamWeights(model, options, [&networks](GeneratedNetwork network) {
    networks.push_back(std::move(network));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return networks;
}

std::future<absl::StatusOr<SampleResult>> Client::SampleWeightsAsync(
    std::string model, SampleOptions options) const {
  const absl::Time deadline = absl::Now() + impl_->options().deadline;
  auto task = std::make_shared<std::packaged_task<absl::StatusOr<SampleResult>()>>(
      [this, deadline, model = std::move(model),
       options = std::move(options)]() -> absl::StatusOr<SampleResult> {
        if (impl_->calls().shut_down()) return internal::ClientDestroyedError();
        return impl_->Sample(model, options, deadline);
      });
  std::future<absl::StatusOr<SampleResult>> result = task->get_future();
  impl_->pool().Schedule([task] { (*task)(); });
  return result;
}

std::future<absl::StatusOr<ClassifyResult>> Client::ClassifyAsync(
    std::string model, Tensor inputs, ClassifyOptions options) const {
  const absl::Time deadline = absl::Now() + impl_->options().deadline;
  auto task = std::make_shared<std::packaged_task<absl::StatusOr<ClassifyResult>()>>(
      [this, deadline, model = std::move(model), inputs = std::move(inputs),
       options = std::move(options)]() -> absl::StatusOr<ClassifyResult> {
        if (impl_->calls().shut_down()) return internal::ClientDestroyedError();
        return impl_->Classify(model, inputs, options, deadline);
      });
  std::future<absl::StatusOr<ClassifyResult>> result = task->get_future();
  impl_->pool().Schedule([task] { (*task)(); });
  return result;
}

}  // namespace hnet::client
