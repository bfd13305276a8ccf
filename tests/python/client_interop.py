#!/usr/bin/python3
"""Calls a running hnet-server from Python (grpcio + the stubs generated at build time).

Usage:
  /usr/bin/python3 tests/python/client_interop.py --server HOST:PORT \
      --stubs BUILD/proto/python [--model NAME]

Checks SampleWeights (shapes from GetModelInfo, finite values, same seed -> same bytes, the
served model version), Classify (one prediction per input, probabilities summing to 1, votes
summing to K) and ModelAdmin.ReloadModels (nothing changed). Exits 0 when every check
passes, 1 with a message otherwise.
"""
import argparse
import sys

import grpc
import numpy as np

DTYPES = {1: "<f4", 2: "<f8", 3: "<i8", 4: "u1", 5: "<i4"}  # hnet.v1.TensorProto.DType


def to_numpy(tensor):
    """TensorProto -> numpy array (raw little-endian bytes, row-major)."""
    return np.frombuffer(tensor.data, dtype=DTYPES[tensor.dtype]).reshape(tuple(tensor.shape))


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def check_sample(stub, pb, model, info):
    request = pb.SampleWeightsRequest(model=model, n=3, noise=pb.NoiseSource(seed=1),
                                      return_z=True)
    first = stub.SampleWeights(request, timeout=60)
    second = stub.SampleWeights(request, timeout=60)
    check(len(first.layers) == len(info.layers),
          f"{len(first.layers)} layers, model has {len(info.layers)}")
    for layer, layer_info in zip(first.layers, info.layers):
        weights = to_numpy(layer.weights)
        expected = (3, *layer_info.shape)
        check(weights.shape == expected, f"{layer.name}: shape {weights.shape} != {expected}")
        check(np.isfinite(weights).all(), f"{layer.name}: non-finite weights")
    check(to_numpy(first.z).shape == (3, info.z_dim), f"z shape {to_numpy(first.z).shape}")
    check(first.SerializeToString() == second.SerializeToString(),
          "same seed gave different weights")
    check(first.model.name == model and first.model.version == info.version_number
          and first.model.content_hash == info.content_hash,
          f"served by {first.model}, not version {info.version_number} ({info.content_hash})")
    return f"SampleWeights: {len(first.layers)} layers of 3 networks"


def check_classify(stub, pb, checkpoint_pb2, model, info):
    target = info.target
    shape = [8, target.input_height, target.input_width]
    if target.input_channels > 1:
        shape.insert(1, target.input_channels)
    pixels = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    inputs = checkpoint_pb2.TensorProto(dtype=4, shape=shape, data=pixels.tobytes())
    response = stub.Classify(pb.ClassifyRequest(model=model, inputs=inputs, ensemble_size=5,
                                                noise=pb.NoiseSource(seed=2)), timeout=60)
    check(len(response.predictions) == 8, f"{len(response.predictions)} predictions for 8")
    for p in response.predictions:
        check(abs(sum(p.probabilities) - 1) < 1e-3, f"probabilities sum {sum(p.probabilities)}")
        check(0 <= p.predicted_class < len(p.probabilities), f"class {p.predicted_class}")
        check(sum(p.votes) == 5, f"votes sum {sum(p.votes)} != 5")
    return "Classify: 8 predictions by 5 members"


def check_reload(admin, admin_pb):
    changes = admin.ReloadModels(admin_pb.ReloadModelsRequest(), timeout=60).changes
    check(len(changes) == 0, f"an unchanged directory reloaded: {changes}")
    return "ReloadModels: nothing changed"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="host:port of hnet-server")
    parser.add_argument("--stubs", required=True, help="<build>/proto/python")
    parser.add_argument("--model", default="", help="model name (default: the only one)")
    args = parser.parse_args()
    sys.path.insert(0, args.stubs)
    from hnet.v1 import checkpoint_pb2, service_pb2 as pb, service_pb2_grpc  # noqa: E402
    from hnet.v1 import admin_pb2, admin_pb2_grpc  # noqa: E402

    channel = grpc.insecure_channel(args.server,
                                    options=[("grpc.max_receive_message_length", 64 << 20)])
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = service_pb2_grpc.HyperNetStub(channel)
    model = args.model
    if not model:
        models = stub.ListModels(pb.ListModelsRequest(), timeout=30).models
        check(len(models) == 1, f"--model needed: server has {[m.name for m in models]}")
        model = models[0].name
    info = stub.GetModelInfo(pb.GetModelInfoRequest(model=model), timeout=30)
    try:
        print(check_sample(stub, pb, model, info))
        print(check_classify(stub, pb, checkpoint_pb2, model, info))
        print(check_reload(admin_pb2_grpc.ModelAdminStub(channel), admin_pb2))
    except (AssertionError, grpc.RpcError) as error:
        print(f"client_interop: FAILED: {error}", file=sys.stderr)
        return 1
    print("client_interop: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
