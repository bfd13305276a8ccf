#include "client/client.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/internal/channel.h"
#include "client/internal/client_impl.h"
#include "client/internal/convert.h"

namespace hnet::client {

using hnet::v1::HyperNet;

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  if (absl::Status s = ValidateClientOptions(options); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = internal::MakeChannel(options);
  if (!channel.ok()) return channel.status();
  return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(options, *std::move(channel))));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Calls in flight are cancelled (they end CANCELLED "client destroyed"); the async tasks still
// queued then run at once, each ending the same way without calling the server. Join() waits
// for the workers while the client is whole: they call back into it.
Client::~Client() {
  impl_->calls().Shutdown();
  impl_->pool().Join();
}

const ClientOptions& Client::options() const { return impl_->options(); }

absl::StatusOr<std::vector<ModelInfo>> Client::ListModels() const {
  constexpr int kPageSize = 100;  // Keeps each response far below any message limit.
  constexpr int kMaxPages = 100000;
  std::vector<ModelInfo> models;
  hnet::v1::ListModelsRequest request;
  request.set_page_size(kPageSize);
  std::set<std::string> seen_tokens;
  const absl::Time deadline = absl::Now() + impl_->options().deadline;  // for all the pages
  for (int page = 0; page < kMaxPages; ++page) {
    hnet::v1::ListModelsResponse response;
    absl::Status s = impl_->Unary(&HyperNet::Stub::ListModels, request, &response, deadline);
    if (!s.ok()) return s;
    for (const hnet::v1::ModelInfo& model : response.models()) {
      models.push_back(internal::FromProto(model));
    }
    if (response.next_page_token().empty()) return models;
    if (!seen_tokens.insert(response.next_page_token()).second) {
      return absl::InternalError("ListModels: the server returned the same page token twice");
    }
    request.set_page_token(response.next_page_token());
  }
  return absl::InternalError("ListModels: the server never returned a last page");
}

absl::StatusOr<ModelInfo> Client::GetModelInfo(absl::string_view model, int64_t version) const {
  if (version < 0) {
    return absl::InvalidArgumentError(absl::StrCat("version: must be >= 0, got ", version));
  }
  hnet::v1::GetModelInfoRequest request;
  request.set_model(std::string(model));
  request.set_version(version);
  hnet::v1::ModelInfo response;
  absl::Status s = impl_->Unary(&HyperNet::Stub::GetModelInfo, request, &response);
  if (!s.ok()) return s;
  return internal::FromProto(response);
}

absl::StatusOr<SampleResult> Client::SampleWeights(absl::string_view model,
                                                   const SampleOptions& options) const {
  return impl_->Sample(model, options, absl::Now() + impl_->options().deadline);
}

absl::StatusOr<SampleResult> Client::Impl::Sample(absl::string_view model,
                                                  const SampleOptions& options,
                                                  absl::Time deadline) const {
  if (absl::Status s = ValidateSampleOptions(options); !s.ok()) return s;
  hnet::v1::SampleWeightsResponse response;
  absl::Status s = Unary(&HyperNet::Stub::SampleWeights,
                         internal::MakeSampleRequest(model, options), &response, deadline);
  if (!s.ok()) return s;
  absl::StatusOr<SampleResult> result = internal::FromProto(std::move(response));
  if (!result.ok()) return result;
  const int64_t n = options.noise.z.has_value() ? options.noise.z->shape[0] : options.n;
  if (s = internal::CheckSampleResult(*result, n, options.return_z); !s.ok()) return s;
  return result;
}

absl::StatusOr<ClassifyResult> Client::Classify(absl::string_view model, const Tensor& inputs,
                                                const ClassifyOptions& options) const {
  return impl_->Classify(model, inputs, options, absl::Now() + impl_->options().deadline);
}

absl::StatusOr<ClassifyResult> Client::Impl::Classify(absl::string_view model, const Tensor& inputs,
                                                      const ClassifyOptions& options,
                                                      absl::Time deadline) const {
  if (absl::Status s = ValidateClassifyOptions(inputs, options); !s.ok()) return s;
  hnet::v1::ClassifyResponse response;
  absl::Status s =
      Unary(&HyperNet::Stub::Classify, internal::MakeClassifyRequest(model, inputs, options),
            &response, deadline);
  if (!s.ok()) return s;
  absl::StatusOr<ClassifyResult> result = internal::FromProto(std::move(response));
  if (!result.ok()) return result;
  const int64_t k = options.noise.z.has_value() ? options.noise.z->shape[0] : options.ensemble_size;
  if (s = internal::CheckClassifyResult(*result, inputs.shape[0], k, options.return_members);
      !s.ok()) {
    return s;
  }
  return result;
}

absl::StatusOr<PathResult> Client::InterpolatePath(absl::string_view model,
                                                   const PathOptions& options) const {
  if (absl::Status s = ValidatePathOptions(options); !s.ok()) return s;
  hnet::v1::InterpolatePathResponse response;
  absl::Status s = impl_->Unary(&HyperNet::Stub::InterpolatePath,
                                internal::MakePathRequest(model, options), &response);
  if (!s.ok()) return s;
  return internal::FromProto(std::move(response));
}

}  // namespace hnet::client
