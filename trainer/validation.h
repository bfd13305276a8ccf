// Validation reports of a hypernetwork, as the reference prints them every 1,000 steps.
#ifndef HNET_TRAINER_VALIDATION_H_
#define HNET_TRAINER_VALIDATION_H_

#include <cstdint>
#include <string>

#include "core/dataset.h"
#include "core/hypernetwork.h"
#include "hnet/v1/checkpoint.pb.h"
#include "hnet/v1/config.pb.h"

namespace hnet::trainer {

// Samples `networks` networks with z drawn from a generator seeded with `seed` (so reports
// at different steps see the same z), evaluates them on `split` with batch norm in eval
// mode, and fills accuracy statistics, the three ensemble rules and the Kozachenko-Leonenko
// entropy estimate (diversity's metric, entropy_dim and permutation gauge) of the weights with
// the scale gauge fixed, whatever diversity.kind and scale_gauge say. Restores the model's
// training mode. `histogram` (optional)
// receives a text histogram of the accuracies.
hnet::v1::ValidationMetrics Validate(core::HyperNetworkImpl& model, const core::Split& split,
                                     const hnet::v1::DiversityConfig& diversity, int64_t networks,
                                     uint64_t seed, std::string* histogram);

// One line: "mean 97.1% (min 95.0, max 98.2, sd 0.5) | ensembles: vote 98.9 ...".
std::string FormatMetrics(const hnet::v1::ValidationMetrics& metrics);

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_VALIDATION_H_
