#!/usr/bin/python3
"""Shows that validate_manifests.py fails when deploy/ is broken: copies the files it reads into
a temporary tree, breaks one thing at a time and requires a failure naming the right field.
Renders with tests/deploy/kustomize_lite.py (no kubectl), so that resolver is exercised too.

Usage: mutation_test.py [--root REPO]
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import validate_manifests  # noqa: E402

COPIED = ["deploy", "server", "trainer", "client/cli", "client/CMakeLists.txt", ".dockerignore"]

# (what is broken, file, old text, new text, expected substring of a FAIL line)
MUTATIONS = [
    ("grace period shorter than preStop + drain", "deploy/k8s/base/deployment.yaml",
     "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30",
     "terminationGracePeriodSeconds: 30 s < preStop 5 s + --drain_timeout_s 30 s"),
    ("drain timeout raised in the ConfigMap only", "deploy/k8s/base/server.env",
     "HNET_DRAIN_TIMEOUT_S=30", "HNET_DRAIN_TIMEOUT_S=60", "terminationGracePeriodSeconds"),
    ("readiness probe on the wrong port", "deploy/k8s/base/deployment.yaml",
     "          readinessProbe:\n            grpc:\n              port: 50051",
     "          readinessProbe:\n            grpc:\n              port: 50052",
     "readinessProbe.grpc.port: 50052 is not the grpc containerPort 50051"),
    ("flag hnet-server does not have", "deploy/k8s/base/deployment.yaml",
     "- --queue_capacity=$(HNET_QUEUE_CAPACITY)", "- --queue_size=$(HNET_QUEUE_CAPACITY)",
     "hnet-server has no flag --queue_size"),
    ("ConfigMap key that does not exist", "deploy/k8s/base/server.env",
     "HNET_WORKERS=2", "HNET_WORKER=2", "$(HNET_WORKERS) is defined by no env entry"),
    ("headless Service selecting other pods", "deploy/k8s/base/services.yaml",
     "  clusterIP: None\n  publishNotReadyAddresses: false\n  selector:\n"
     "    app.kubernetes.io/name: hnet\n    app.kubernetes.io/component: server",
     "  clusterIP: None\n  publishNotReadyAddresses: false\n  selector:\n"
     "    app.kubernetes.io/name: hnet\n    app.kubernetes.io/component: trainer",
     "Service/hnet-server-headless: spec.selector"),
    ("HPA targeting another Deployment", "deploy/k8s/base/hpa.yaml",
     "    kind: Deployment\n    name: hnet-server", "    kind: Deployment\n    name: hnet",
     "spec.scaleTargetRef"),
    ("PDB selecting nothing", "deploy/k8s/base/pdb.yaml",
     "      app.kubernetes.io/component: server", "      app.kubernetes.io/component: srv",
     "PodDisruptionBudget/hnet-server: spec.selector.matchLabels"),
    ("Job completions not matching the lambdas", "deploy/k8s/sweep/job.yaml",
     "completions: 3", "completions: 2", "spec.completions: 2 != 3 lambdas"),
    ("Job not Indexed", "deploy/k8s/sweep/job.yaml", "completionMode: Indexed",
     "completionMode: NonIndexed", "spec.completionMode"),
    ("sweep script ignoring the index", "deploy/k8s/sweep/sweep.sh",
     'shift "${JOB_COMPLETION_INDEX}"', "true", "sweep script, JOB_COMPLETION_INDEX=1"),
    ("sweep script passing a flag hnet-train lacks", "deploy/k8s/sweep/sweep.sh",
     "--no_progress", "--quiet", "hnet-train has no flag --quiet"),
    ("models not read-only", "deploy/k8s/base/deployment.yaml",
     "            - name: shared\n              mountPath: /var/lib/hnet\n              readOnly: true\n"
     "            - name: tmp",
     "            - name: shared\n              mountPath: /var/lib/hnet\n            - name: tmp",
     "the models must come read-only from a PVC"),
    ("gRPC probe with TLS on", "deploy/k8s/overlays/mtls/args-probes-tls.yaml",
     "- op: replace\n  path: /spec/template/spec/containers/0/readinessProbe\n  value:\n"
     "    httpGet:\n      path: /healthz\n      port: 9090",
     "- op: replace\n  path: /spec/template/spec/containers/0/readinessProbe\n  value:\n"
     "    grpc:\n      port: 50051", "plaintext only"),
    ("GPU overlay without --device cuda", "deploy/k8s/overlays/gpu/kustomization.yaml",
     "- HNET_DEVICE=cuda", "- HNET_DEVICE=cpu", "leaves the GPU idle"),
    ("oversubscribed CPU", "deploy/k8s/base/server.env", "HNET_THREADS=1", "HNET_THREADS=4",
     "oversubscribes"),
    ("runtime image running as root", "deploy/docker/Dockerfile", "USER 10001:10001",
     "USER root", "runtime USER"),
    ("entrypoint in shell form", "deploy/docker/Dockerfile",
     'ENTRYPOINT ["hnet-server", "--models", "/models", "--metrics_port", "9090", '
     '"--admin_service=false"]',
     "ENTRYPOINT hnet-server --models /models --admin_service=false", "exec (JSON) form"),
    ("port not exposed", "deploy/docker/Dockerfile", "EXPOSE 50051 9090", "EXPOSE 50051",
     "lacks 50051/9090"),
    ("builder missing a setup.sh package", "deploy/docker/Dockerfile",
     "libspdlog-dev libcli11-dev", "libcli11-dev", "missing setup.sh packages ['libspdlog-dev']"),
    ("-dev package in the runtime", "deploy/docker/Dockerfile", "libtorch1.13 libopenblas0-pthread",
     "libtorch-dev libopenblas0-pthread", "-dev packages in the runtime"),
    ("CUDA runtime not matching the builder", "deploy/docker/Dockerfile.cuda",
     "-runtime-ubuntu${UBUNTU_VERSION} AS runtime", "-runtime-ubuntu20.04 AS runtime",
     "does not match the builder"),
    ("systemd stop timeout shorter than the drain", "deploy/systemd/hnet-server.service",
     "TimeoutStopSec=45", "TimeoutStopSec=20", "TimeoutStopSec: 20 s < --drain_timeout_s 30 s"),
    ("systemd unit without ProtectSystem", "deploy/systemd/hnet-server.service",
     "ProtectSystem=strict", "ProtectSystem=full", "ProtectSystem"),
    ("systemd env example with a typo", "deploy/systemd/hnet-server.env.example",
     "HNET_WORKERS=2", "HNET_WORKER=2", "HNET_WORKER: is not used by ExecStart"),
    ("systemd syntax error", "deploy/systemd/hnet-server.service", "KillSignal=SIGTERM",
     "KillSignal=SIGTERMINATE", "KillSignal"),
    ("ModelAdmin on in the base without a token", "deploy/k8s/base/server.env",
     "HNET_ADMIN_SERVICE=false", "HNET_ADMIN_SERVICE=true",
     "deploy/k8s/base Deployment/hnet-server: containers[hnet-server].args --admin_service"),
    ("ModelAdmin on in the CPU image", "deploy/docker/Dockerfile", '"--admin_service=false"]',
     '"--admin_service=true"]', "deploy/docker/Dockerfile: ENTRYPOINT --admin_service"),
    ("ModelAdmin on by the systemd unit's default", "deploy/systemd/hnet-server.service",
     "Environment=HNET_ADMIN_SERVICE=false", "Environment=HNET_ADMIN_SERVICE=true",
     "[Service] ExecStart (defaults) --admin_service"),
    ("registry set in the base", "deploy/k8s/base/kustomization.yaml",
     "configMapGenerator:\n", "images:\n  - name: hnet\n    newName: registry.example.com/hnet\n"
     "    newTag: cpu\nconfigMapGenerator:\n", "overlays/gpu's images rule"),
    ("cleartext appProtocol on the TLS port", "deploy/k8s/overlays/mtls/services-tls.yaml",
     "- op: remove\n  path: /spec/ports/0/appProtocol",
     "- op: replace\n  path: /spec/ports/0/appProtocol\n  value: kubernetes.io/h2c",
     "kubernetes.io/h2c is cleartext HTTP/2"),
    # The script before it refused '+': 1e+3 published mnist-lambda-1e+3.hnet, which
    # hnet-server skips (not a model name).
    ("sweep script publishing an unservable name", "deploy/k8s/sweep/sweep.sh",
     "  *+*) die", "  *++*) die", "HNET_SWEEP_LAMBDAS=1e+3"),
    ("flag removed from the server sources", "server/main.cc",
     'app.add_option("--drain_timeout_s"', 'app.add_option("--drain_s"',
     "hnet-server has no flag --drain_timeout_s"),
]
if shutil.which("systemd-analyze"):
  # Caught by `systemd-analyze verify`, not by the parser.
  MUTATIONS.append(("systemd directive systemd rejects", "deploy/systemd/hnet-server.service",
                    "RestrictAddressFamilies=AF_UNIX", "RestrictAddressFamilies=AF_BOGUS",
                    "systemd-analyze verify"))


def copy_tree(root, dest):
  for rel in COPIED:
    source = os.path.join(root, rel)
    target = os.path.join(dest, rel)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.isdir(source):
      shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    else:
      shutil.copy2(source, target)
  for rel in ("server/CMakeLists.txt", "trainer/CMakeLists.txt"):
    assert os.path.exists(os.path.join(dest, rel))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
  root = os.path.abspath(parser.parse_args().root)
  failures = 0
  with tempfile.TemporaryDirectory() as tmp:
    pristine = os.path.join(tmp, "pristine")
    copy_tree(root, pristine)
    baseline = validate_manifests.validate(pristine, use_kubectl=False)
    if baseline.errors:
      print("the unmodified copy already fails:\n" + "\n".join(baseline.errors))
      return 1
    for what, rel, old, new, expected in MUTATIONS:
      work = os.path.join(tmp, "work")
      shutil.rmtree(work, ignore_errors=True)
      shutil.copytree(pristine, work)
      path = os.path.join(work, rel)
      with open(path, encoding="utf-8") as f:
        text = f.read()
      if text.count(old) != 1:
        print(f"BROKEN MUTATION '{what}': {rel} contains {text.count(old)} copies of {old!r}")
        failures += 1
        continue
      with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new))
      report = validate_manifests.validate(work, use_kubectl=False)
      hits = [e for e in report.errors if expected in e]
      if hits:
        print(f"ok   {what}: {hits[0]}")
      else:
        failures += 1
        print(f"MISS {what}: no failure containing {expected!r}; got {report.errors}")
  print(f"deploy mutations: {len(MUTATIONS) - failures}/{len(MUTATIONS)} detected")
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main())
