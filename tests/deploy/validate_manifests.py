#!/usr/bin/python3
"""Validates deploy/: Dockerfiles, the Kubernetes kustomizations (base, overlays, sweep) and the
systemd unit, against each other and against the flags hnet-server, hnet-train and hnet accept
(parsed from the C++ sources at test time, so a manifest using a flag that does not exist fails).

Usage: validate_manifests.py [--root REPO] [--strict] [--no-kubectl]
  --strict      flags listed in PENDING_FLAGS (none at present) must exist in the sources too;
                without it they are warnings. Also on with HNET_DEPLOY_STRICT=1. ctest passes it.
  --no-kubectl  render with tests/deploy/kustomize_lite.py only.
Exit status 0 when every check passes; each failure is printed as FAIL <file>: <field>: <why>.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import yaml  # noqa: E402  (python3-yaml)

import deploy_sources as src  # noqa: E402
import kustomize_lite  # noqa: E402
from sweep_check import check_sweep_script  # noqa: E402

# hnet-server flags that manifests may use before they land in server/*.cc ({flag: the work
# adding it}): a warning until then (with --strict, a failure). A flag neither here nor in the
# sources always fails. Empty: the metrics, security and lifecycle flags have all landed.
PENDING_FLAGS = {}
KUSTOMIZATIONS = ["deploy/k8s/base", "deploy/k8s/overlays/gpu", "deploy/k8s/overlays/mtls",
                  "deploy/k8s/sweep"]
GRACE_MARGIN_S = 5       # terminationGracePeriodSeconds >= preStop + drain + this
STOP_MARGIN_S = 5        # systemd TimeoutStopSec >= drain + this
MIN_STARTUP_BUDGET_S = 120
NAMESPACE = "hnet"
SERVER_FILE_FLAGS = ["--models", "--data_dir", "--tls_cert", "--tls_key", "--tls_client_ca",
                     "--auth_token_file"]
# Packages of setup.sh the image builder does not need (tests, benchmarks, the Python interop
# test, data, compiler cache); every other one must be in the builder stage.
BUILDER_EXCLUDED = {"libgtest-dev", "libgmock-dev", "libbenchmark-dev", "python3-grpcio",
                    "python3-numpy", "python3-torch", "python3-yaml", "ccache",
                    "dataset-fashion-mnist", "gnuplot", "openssl"}
IMAGE_TAG_DOCKERFILES = {"cpu": "deploy/docker/Dockerfile", "cuda": "deploy/docker/Dockerfile.cuda"}
# CLI11's false words for a bool option.
FALSE_WORDS = {"false", "0", "off", "no"}


class Report:
  def __init__(self, strict):
    self.strict = strict
    self.errors, self.warnings, self.checks = [], [], 0

  def check(self, ok, where, field, message):
    self.checks += 1
    if not ok:
      self.errors.append(f"FAIL {where}: {field}: {message}")
    return ok

  def fail(self, where, field, message):
    return self.check(False, where, field, message)

  def warn(self, where, field, message):
    self.warnings.append(f"WARN {where}: {field}: {message}")


class Flags:
  """Flags of one binary from the sources, with the pending ones."""

  def __init__(self, binary, known, pending=None):
    self.binary, self.known, self.pending = binary, known, pending or {}

  def check(self, report, where, field, flag):
    if flag in self.known:
      report.checks += 1
      return True
    if flag in self.pending and not report.strict:
      report.warn(where, field, f"{flag} is not in the {self.binary} sources yet (pending the "
                  f"{self.pending[flag]} work); --strict makes this a failure")
      return True
    return report.fail(where, field, f"{self.binary} has no flag {flag} (not registered with "
                       f"add_option/add_flag in its sources)")


def split_flag_args(argv):
  """[(flag, value or None)] of an argv tail: --a=b, --a b and bare --flag forms."""
  out, i = [], 0
  while i < len(argv):
    word = argv[i]
    if word.startswith("-"):
      if "=" in word:
        flag, value = word.split("=", 1)
        out.append((flag, value))
      elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
        out.append((word, argv[i + 1]))
        i += 1
      else:
        out.append((word, None))
    else:
      out.append((None, word))
    i += 1
  return out


def cpu_cores(quantity):
  text = str(quantity)
  return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def first_number(text):
  try:
    return float(text)
  except (TypeError, ValueError):
    return None


def check_admin_service(values, report, where, field):
  """hnet.v1.ModelAdmin (on when --admin_service is true; off by default) shares the gRPC port and its
  LoadModel reads any file the server can: a shipped configuration turns it off unless calls
  need a token or a client certificate."""
  value = values.get("--admin_service", "false")
  on = str(value).strip().lower() not in FALSE_WORDS
  protected = bool(values.get("--auth_token_file") or values.get("--tls_client_ca"))
  return report.check(not on or protected, where, f"{field} --admin_service",
                      f"hnet.v1.ModelAdmin is on (--admin_service {value}) with neither "
                      "--auth_token_file nor --tls_client_ca: any caller of the gRPC port could "
                      "LoadModel any file the server can read; pass --admin_service=false")


# ----------------------------------------------------------------------------- Kubernetes --


def render(root, directory, report, use_kubectl):
  """The resources of one kustomization; cross-checked against kubectl when available."""
  path = os.path.join(root, directory)
  generated = set()
  try:
    docs = kustomize_lite.build(path, generated)
  except (kustomize_lite.KustomizeError, OSError, yaml.YAMLError) as e:
    report.fail(directory, "kustomization", str(e))
    return None
  report.checks += 1
  kubectl = shutil.which("kubectl") if use_kubectl else None
  if kubectl:
    run = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True,
                         timeout=120)
    if not report.check(run.returncode == 0, directory, "kubectl kustomize",
                        run.stderr.strip()[-2000:]):
      return None
    text = run.stdout
    for name in generated:
      text = re.sub(rf"\b{re.escape(name)}-[a-z0-9]{{10}}\b", name, text)
    theirs = sorted((d for d in yaml.safe_load_all(text) if d), key=kustomize_lite.resource_key)
    ours = sorted(docs, key=kustomize_lite.resource_key)
    if theirs != ours:
      diff = [f"{kustomize_lite.resource_key(t)}" for t, o in zip(theirs, ours) if t != o]
      report.fail(directory, "rendering", "tests/deploy/kustomize_lite.py disagrees with "
                  f"`kubectl kustomize` on {diff or 'the resource list'}; fix the resolver")
      return theirs
  return docs


def pod_labels(doc):
  return doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) or {}


def selects(selector, labels):
  return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def container_env(container, docs, where, field, report):
  """{VAR: value} of a container: explicit env values and configMap-sourced ones; references
  to missing ConfigMaps or keys are failures."""
  config_maps = {d["metadata"]["name"]: d.get("data", {}) or {}
                 for d in docs if d.get("kind") == "ConfigMap"}
  env = {}
  for source in container.get("envFrom", []):
    ref = source.get("configMapRef")
    if ref and report.check(ref["name"] in config_maps, where, f"{field}.envFrom",
                            f"ConfigMap {ref['name']} does not exist"):
      env.update(config_maps[ref["name"]])
  for var in container.get("env", []):
    if "value" in var:
      env[var["name"]] = str(var["value"])
    ref = var.get("valueFrom", {}).get("configMapKeyRef")
    if ref:
      data = config_maps.get(ref["name"])
      if report.check(data is not None and ref["key"] in data, where, f"{field}.env.{var['name']}",
                      f"ConfigMap {ref['name']} has no key {ref['key']}"):
        env[var["name"]] = data[ref["key"]]
  return env


def expand_vars(text, env, where, field, report):
  """Kubernetes $(VAR) expansion; an undefined VAR would reach the binary verbatim."""
  def sub(match):
    name = match.group(1)
    if report.check(name in env, where, field,
                    f"$({name}) is defined by no env entry or ConfigMap key"):
      return env[name]
    return match.group(0)
  return re.sub(r"\$\((\w+)\)", sub, text)


def mounted_file_ok(path, container, pod, where, field, report):
  """`path` lies under one of the container's mounts, and inside the named item list when the
  mounted Secret/ConfigMap projects only some keys."""
  volumes = {v["name"]: v for v in pod.get("volumes", [])}
  best = None
  for mount in container.get("volumeMounts", []):
    mp = mount["mountPath"].rstrip("/")
    if (path == mp or path.startswith(mp + "/")) and (not best or len(mp) > len(best["mountPath"])):
      best = mount
  if not report.check(best is not None, where, field, f"{path} is on no volume mount "
                      "(read-only root filesystem: it would not exist)"):
    return None
  volume = volumes.get(best["name"], {})
  source = volume.get("secret") or volume.get("configMap")
  if source and source.get("items"):
    rel = os.path.relpath(path, best["mountPath"])
    report.check(rel in [i["path"] for i in source["items"]], where, field,
                 f"{path}: volume {best['name']} projects only "
                 f"{[i['path'] for i in source['items']]}")
  return best, volume


def check_server_deployment(name, docs, report, flags):
  where = f"{name} Deployment/hnet-server"
  deployments = [d for d in docs if kustomize_lite.resource_key(d) == ("Deployment", "hnet-server")]
  if not report.check(len(deployments) == 1, name, "Deployment/hnet-server", "missing"):
    return None
  dep = deployments[0]
  spec = dep["spec"]
  pod = spec["template"]["spec"]
  labels = pod_labels(dep)
  report.check(selects(spec["selector"].get("matchLabels"), labels), where,
               "spec.selector.matchLabels", "does not match the pod template labels")
  containers = {c["name"]: c for c in pod.get("containers", [])}
  c = containers.get("hnet-server")
  if not report.check(c is not None, where, "containers", "no container hnet-server"):
    return None
  field = "containers[hnet-server]"
  report.check(c.get("command", [None])[0] == "hnet-server", where, f"{field}.command",
               "must run hnet-server")
  env = container_env(c, docs, where, field, report)
  argv = [expand_vars(a, env, where, f"{field}.args", report) for a in c.get("args", [])]
  values = {}
  for flag, value in split_flag_args(argv):
    if not report.check(flag is not None, where, f"{field}.args", f"stray argument '{value}'"):
      continue
    flags.check(report, where, f"{field}.args", flag)
    report.check(flag not in values, where, f"{field}.args",
                 f"{flag} given twice (CLI11 rejects repeated options)")
    values[flag] = value
  check_admin_service(values, report, where, f"{field}.args")
  ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
  grpc_port, metrics_port = ports.get("grpc"), ports.get("metrics")
  report.check(grpc_port is not None and metrics_port is not None, where, f"{field}.ports",
               f"needs ports named grpc and metrics, has {ports}")
  report.check(first_number(values.get("--port")) == grpc_port, where, f"{field}.args --port",
               f"{values.get('--port')} differs from containerPort grpc {grpc_port}")
  report.check(first_number(values.get("--metrics_port")) == metrics_port, where,
               f"{field}.args --metrics_port",
               f"{values.get('--metrics_port')} differs from containerPort metrics {metrics_port}")
  tls = any(f in values for f in ("--tls_cert", "--tls_key"))
  for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
    probe = c.get(probe_name)
    pf = f"{field}.{probe_name}"
    if not report.check(probe is not None, where, pf, "missing"):
      continue
    if "grpc" in probe:
      report.check(not tls, where, pf, "the kubelet's gRPC probe is plaintext only, but the "
                   "gRPC port serves TLS (--tls_cert): probe GET /healthz on the metrics port")
      report.check(probe["grpc"].get("port") == grpc_port, where, f"{pf}.grpc.port",
                   f"{probe['grpc'].get('port')} is not the grpc containerPort {grpc_port}")
    elif "httpGet" in probe:
      port = probe["httpGet"].get("port")
      report.check(port in (metrics_port, "metrics"), where, f"{pf}.httpGet.port",
                   f"{port}: only the metrics port ({metrics_port}) serves HTTP")
      report.check(probe["httpGet"].get("path") == "/healthz", where, f"{pf}.httpGet.path",
                   "must be /healthz")
    else:
      report.fail(where, pf, "must be a grpc (or, with TLS, httpGet /healthz) probe")
  startup = c.get("startupProbe") or {}
  budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
  report.check(budget >= MIN_STARTUP_BUDGET_S, where, f"{field}.startupProbe",
               f"allows {budget} s for loading and warming models, want >= {MIN_STARTUP_BUDGET_S}")
  # Shutdown arithmetic: grace >= preStop delay + drain timeout + margin.
  drain = first_number(values.get("--drain_timeout_s"))
  report.check(drain is not None, where, f"{field}.args --drain_timeout_s",
               "must be set (from the ConfigMap) so the grace period can be checked")
  prestop = (c.get("lifecycle") or {}).get("preStop") or {}
  delay = None
  if "sleep" in prestop:
    delay = first_number(prestop["sleep"].get("seconds"))
  elif "exec" in prestop:
    command = " ".join(prestop["exec"].get("command", []))
    m = re.search(r"sleep\s+\"?\$\{?(\w+)\}?\"?", command)
    if m:
      report.check(m.group(1) in env, where, f"{field}.lifecycle.preStop",
                   f"${m.group(1)} is defined by no env entry or ConfigMap key")
      delay = first_number(env.get(m.group(1)))
    else:
      m = re.search(r"sleep\s+(\d+(?:\.\d+)?)", command)
      delay = first_number(m.group(1)) if m else None
  report.check(delay is not None, where, f"{field}.lifecycle.preStop",
               "needs a sleep (seconds) so endpoints drop the pod before SIGTERM")
  grace = pod.get("terminationGracePeriodSeconds", 30)
  if drain is not None and delay is not None:
    report.check(grace >= delay + drain + GRACE_MARGIN_S, where,
                 "spec.template.spec.terminationGracePeriodSeconds",
                 f"{grace} s < preStop {delay:g} s + --drain_timeout_s {drain:g} s + margin "
                 f"{GRACE_MARGIN_S} s: draining calls would be SIGKILLed")
    live = c.get("livenessProbe") or {}
    tolerance = live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
    report.check(tolerance > delay + drain, where, f"{field}.livenessProbe",
                 f"fails after {tolerance} s, within preStop + drain ({delay + drain:g} s), "
                 "while health is NOT_SERVING on purpose")
  # Prometheus scraping.
  annotations = dep["spec"]["template"].get("metadata", {}).get("annotations", {}) or {}
  report.check(annotations.get("prometheus.io/scrape") == "true", where,
               "template annotations prometheus.io/scrape", "must be \"true\"")
  report.check(first_number(annotations.get("prometheus.io/port")) == metrics_port, where,
               "template annotations prometheus.io/port",
               f"{annotations.get('prometheus.io/port')} is not the metrics port {metrics_port}")
  report.check(annotations.get("prometheus.io/path") == "/metrics", where,
               "template annotations prometheus.io/path", "must be /metrics")
  # Security.
  psc = pod.get("securityContext", {})
  report.check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, where,
               "spec.template.spec.securityContext", "needs runAsNonRoot: true and a non-zero "
               "runAsUser")
  for cont in pod.get("containers", []) + pod.get("initContainers", []):
    sc = cont.get("securityContext", {})
    report.check(sc.get("readOnlyRootFilesystem") is True and
                 sc.get("allowPrivilegeEscalation") is False, where,
                 f"containers[{cont['name']}].securityContext",
                 "needs readOnlyRootFilesystem: true and allowPrivilegeEscalation: false")
    for mount in cont.get("volumeMounts", []):
      report.check(mount["name"] in {v["name"] for v in pod.get("volumes", [])}, where,
                   f"containers[{cont['name']}].volumeMounts[{mount['name']}]", "no such volume")
  # Files the server opens lie on mounts; the models come read-only from the shared PVC.
  for flag in SERVER_FILE_FLAGS:
    if values.get(flag):
      mounted_file_ok(values[flag], c, pod, where, f"{field}.args {flag}", report)
  models = values.get("--models")
  if report.check(models is not None, where, f"{field}.args", "--models is required"):
    found = mounted_file_ok(models, c, pod, where, f"{field}.args --models", report)
    if found:
      mount, volume = found
      claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
      report.check(claim is not None and mount.get("readOnly") is True, where,
                   f"volumeMounts[{mount['name']}]", "the models must come read-only from a PVC")
      pvcs = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "PersistentVolumeClaim"}
      if report.check(claim in pvcs, where, f"volumes[{mount['name']}]",
                      f"PersistentVolumeClaim {claim} is not in the rendering"):
        report.check("ReadOnlyMany" in pvcs[claim]["spec"].get("accessModes", []),
                     f"{name} PersistentVolumeClaim/{claim}", "spec.accessModes",
                     "must include ReadOnlyMany (every replica mounts it)")
  # CPU: the executor's threads fit the CPU the pod gets.
  resources = c.get("resources", {})
  cpu = (resources.get("limits") or {}).get("cpu") or (resources.get("requests") or {}).get("cpu")
  report.check((resources.get("requests") or {}).get("cpu") is not None and
               (resources.get("requests") or {}).get("memory") is not None, where,
               f"{field}.resources.requests", "cpu and memory requests are required (HPA, "
               "scheduling)")
  workers, threads = first_number(values.get("--workers")), first_number(values.get("--threads"))
  report.check(workers is not None and threads is not None, where, f"{field}.args",
               "set --workers and --threads: in a container hardware_concurrency() is the "
               "node's core count, not the pod's")
  if cpu is not None and workers and threads:
    report.check(workers * threads <= cpu_cores(cpu) + 1e-9, where, f"{field}.resources cpu",
                 f"--workers {workers:g} x --threads {threads:g} oversubscribes {cpu} cores")
  # GPU: --device and nvidia.com/gpu agree; the CUDA image carries the CUDA build.
  device = values.get("--device", "auto")
  gpus = first_number((resources.get("limits") or {}).get("nvidia.com/gpu")) or 0
  if device.startswith("cuda"):
    report.check(gpus >= 1, where, f"{field}.resources.limits",
                 f"--device {device} needs an nvidia.com/gpu limit")
    report.check(c.get("image", "").endswith(":cuda"), where, f"{field}.image",
                 f"{c.get('image')}: --device {device} needs the hnet:cuda image "
                 "(deploy/docker/Dockerfile.cuda)")
  if gpus:
    report.check(device.startswith("cuda") or device == "auto", where, f"{field}.args --device",
                 f"{device} with an nvidia.com/gpu limit leaves the GPU idle")
  for cont in pod.get("containers", []) + pod.get("initContainers", []):
    tag = cont.get("image", "").rpartition(":")[2]
    report.check(tag in IMAGE_TAG_DOCKERFILES, where, f"containers[{cont['name']}].image",
                 f"{cont.get('image')}: tag must be one of {sorted(IMAGE_TAG_DOCKERFILES)} "
                 "(built from deploy/docker)")
  return dep, labels, values


def check_base_images(root, report):
  """overlays/gpu retags the image named hnet to :cuda; a base that renames it (a registry set
  with `kustomize edit set image` in the base) leaves GPU pods on the CPU image."""
  rel = "deploy/k8s/base/kustomization.yaml"
  try:
    docs = kustomize_lite.load_yaml_documents(os.path.join(root, rel))
  except (OSError, yaml.YAMLError):
    return  # render() reports it
  for rule in (docs[0].get("images") or []) if docs and isinstance(docs[0], dict) else []:
    report.check("newName" not in rule, rel, f"images[{rule.get('name')}]",
                 f"renames {rule.get('name')} to {rule.get('newName')}: overlays/gpu's images "
                 "rule (name hnet) would no longer match; set the registry in the kustomization "
                 "you apply (deploy/README.md, Kubernetes)")


def check_kubernetes(root, report, flags, use_kubectl):
  check_base_images(root, report)
  rendered = {d: render(root, d, report, use_kubectl) for d in KUSTOMIZATIONS}
  sweep = rendered.get("deploy/k8s/sweep") or []
  job_labels = [pod_labels(d) for d in sweep if d.get("kind") == "Job"]
  server_values = {}
  for name in KUSTOMIZATIONS[:-1]:
    docs = rendered[name]
    if docs is None:
      continue
    for doc in docs:
      where = f"{name} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
      if doc.get("kind") != "Namespace":
        report.check(doc.get("metadata", {}).get("namespace") == NAMESPACE, where,
                     "metadata.namespace", f"must be {NAMESPACE}")
    result = check_server_deployment(name, docs, report, flags["hnet-server"])
    if not result:
      continue
    dep, labels, values = result
    server_values[name] = values
    container = dep["spec"]["template"]["spec"]["containers"][0]
    port_names = {p.get("name") for p in container.get("ports", [])}
    port_numbers = {p["containerPort"] for p in container.get("ports", [])}
    services = [d for d in docs if d.get("kind") == "Service"]
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    report.check(len(headless) >= 1, name, "Service", "needs a headless Service (clusterIP: None) "
                 "for client-side round robin")
    for svc in services:
      where = f"{name} Service/{svc['metadata']['name']}"
      selector = svc["spec"].get("selector", {})
      report.check(selects(selector, labels), where, "spec.selector",
                   f"{selector} does not select the hnet-server pods {labels}")
      for jl in job_labels:
        report.check(not selects(selector, jl), where, "spec.selector",
                     f"{selector} also selects the sweep Job's pods {jl}")
      tls = bool(values.get("--tls_cert"))
      for port in svc["spec"].get("ports", []):
        target = port.get("targetPort", port.get("port"))
        report.check(target in port_names or target in port_numbers, where,
                     f"ports[{port.get('name')}].targetPort", f"{target} is no container port")
        if tls and target in ("grpc", first_number(values.get("--port"))):
          report.check(port.get("appProtocol") != "kubernetes.io/h2c", where,
                       f"ports[{port.get('name')}].appProtocol", "kubernetes.io/h2c is "
                       "cleartext HTTP/2, but the gRPC port serves TLS (--tls_cert)")
      if svc in headless:
        report.check(any(p.get("port") == first_number(values.get("--port")) for p in
                         svc["spec"].get("ports", [])), where, "spec.ports",
                     "must expose the gRPC port")
    hpas = [d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"]
    report.check(len(hpas) == 1, name, "HorizontalPodAutoscaler", "expected one")
    for hpa in hpas:
      where = f"{name} HorizontalPodAutoscaler/{hpa['metadata']['name']}"
      report.check(hpa.get("apiVersion") == "autoscaling/v2", where, "apiVersion",
                   "must be autoscaling/v2")
      ref = hpa["spec"].get("scaleTargetRef", {})
      report.check((ref.get("apiVersion"), ref.get("kind"), ref.get("name")) ==
                   ("apps/v1", "Deployment", "hnet-server"), where, "spec.scaleTargetRef",
                   f"{ref} is not apps/v1 Deployment hnet-server")
      lo, hi = hpa["spec"].get("minReplicas", 1), hpa["spec"].get("maxReplicas", 0)
      report.check(1 <= lo <= hi, where, "spec.minReplicas/maxReplicas", f"{lo}..{hi}")
      report.check("replicas" not in dep["spec"], f"{name} Deployment/hnet-server",
                   "spec.replicas", "the HPA owns the replica count; every apply would reset it")
      for metric in hpa["spec"].get("metrics", []):
        if metric.get("type") == "Resource":
          rname = metric["resource"]["name"]
          report.check(rname in (container.get("resources", {}).get("requests") or {}), where,
                       f"metrics[{rname}]", f"utilisation needs a {rname} request on the pods")
    min_replicas = min((h["spec"].get("minReplicas", 1) for h in hpas), default=1)
    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget"]
    report.check(len(pdbs) == 1, name, "PodDisruptionBudget", "expected one")
    for pdb in pdbs:
      where = f"{name} PodDisruptionBudget/{pdb['metadata']['name']}"
      report.check(selects(pdb["spec"].get("selector", {}).get("matchLabels"), labels), where,
                   "spec.selector.matchLabels", "does not select the hnet-server pods")
      min_available = pdb["spec"].get("minAvailable")
      if isinstance(min_available, int):
        report.check(min_available < min_replicas, where, "spec.minAvailable",
                     f"{min_available} >= HPA minReplicas {min_replicas}: node drains would block")
      else:
        report.check(pdb["spec"].get("maxUnavailable") or min_available, where, "spec",
                     "needs maxUnavailable or minAvailable")
  base = rendered.get("deploy/k8s/base")
  if sweep and base:
    check_sweep_job(root, sweep, base, server_values.get("deploy/k8s/base", {}), report, flags)


def check_sweep_job(root, docs, base_docs, server_values, report, flags):
  where = "deploy/k8s/sweep Job/hnet-sweep"
  jobs = [d for d in docs if kustomize_lite.resource_key(d) == ("Job", "hnet-sweep")]
  if not report.check(len(jobs) == 1, "deploy/k8s/sweep", "Job/hnet-sweep", "missing"):
    return
  job = jobs[0]
  spec, pod = job["spec"], job["spec"]["template"]["spec"]
  report.check(spec.get("completionMode") == "Indexed", where, "spec.completionMode",
               "must be Indexed (JOB_COMPLETION_INDEX picks the lambda)")
  report.check(pod.get("restartPolicy") in ("OnFailure", "Never"), where,
               "spec.template.spec.restartPolicy", "must be OnFailure or Never")
  report.check(job.get("metadata", {}).get("namespace") == NAMESPACE, where,
               "metadata.namespace", f"must be {NAMESPACE} (the PVC's namespace)")
  c = pod["containers"][0]
  env = container_env(c, docs, where, "containers[0]", report)
  lambdas = env.get("HNET_SWEEP_LAMBDAS", "").split()
  report.check(len(lambdas) >= 2, where, "env HNET_SWEEP_LAMBDAS", "needs at least two values")
  report.check(all(first_number(l) and first_number(l) > 0 for l in lambdas), where,
               "env HNET_SWEEP_LAMBDAS", f"{lambdas}: every lambda must be a positive number")
  report.check(spec.get("completions") == len(lambdas), where, "spec.completions",
               f"{spec.get('completions')} != {len(lambdas)} lambdas in HNET_SWEEP_LAMBDAS")
  report.check(1 <= spec.get("parallelism", 1) <= spec.get("completions", 0), where,
               "spec.parallelism", "must be in 1..completions")
  # The script is mounted from a ConfigMap and run by sh.
  command = c.get("command", [])
  script_path = command[-1] if command else ""
  volumes = {v["name"]: v for v in pod.get("volumes", [])}
  script = None
  for mount in c.get("volumeMounts", []):
    if script_path.startswith(mount["mountPath"].rstrip("/") + "/"):
      cm_name = (volumes.get(mount["name"], {}).get("configMap") or {}).get("name")
      cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
      key = os.path.relpath(script_path, mount["mountPath"])
      if report.check(cm_name in cms and key in cms[cm_name].get("data", {}), where,
                      "containers[0].command", f"{script_path}: ConfigMap {cm_name} has no key {key}"):
        script = cms[cm_name]["data"][key]
  if not report.check(script is not None, where, "containers[0].command",
                      f"{command} runs no script mounted from a ConfigMap"):
    return
  # The models dir the Job publishes into is the one the servers serve, on the same PVC.
  models_dir, staging = env.get("HNET_MODELS_DIR"), env.get("HNET_STAGING_DIR")
  report.check(models_dir == server_values.get("--models"), where, "env HNET_MODELS_DIR",
               f"{models_dir} is not the servers' --models {server_values.get('--models')}")
  mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
  shared = [mp for mp in mounts if models_dir and models_dir.startswith(mp.rstrip("/") + "/")]
  if report.check(bool(shared), where, "containers[0].volumeMounts",
                  f"{models_dir} is on no mount"):
    mount = mounts[shared[0]]
    report.check(bool(staging) and staging.startswith(shared[0].rstrip("/") + "/"), where,
                 "env HNET_STAGING_DIR", f"{staging} must be on the models volume ({shared[0]}) "
                 "so publishing is an atomic rename")
    report.check(not mount.get("readOnly"), where, f"volumeMounts[{mount['name']}]",
                 "the Job writes the models volume")
    claim = (volumes.get(mount["name"], {}).get("persistentVolumeClaim") or {}).get("claimName")
    base_claims = {d["metadata"]["name"] for d in base_docs
                   if d.get("kind") == "PersistentVolumeClaim"}
    report.check(claim in base_claims, where, f"volumes[{mount['name']}]",
                 f"claim {claim} is not the base's PersistentVolumeClaim {sorted(base_claims)}")
  psc = pod.get("securityContext", {})
  report.check(psc.get("runAsNonRoot") is True, where, "spec.template.spec.securityContext",
               "needs runAsNonRoot: true")
  report.check(c.get("image", "").rpartition(":")[2] in IMAGE_TAG_DOCKERFILES, where,
               "containers[0].image", f"{c.get('image')}: unknown tag")
  check_sweep_script(script, env, lambdas, flags["hnet-train"], report, where)


# ---------------------------------------------------------------------------- Dockerfiles --


def check_dockerfiles(root, report, flags, executables):
  setup = src.setup_packages(root)
  report.check(setup is not None, "deploy/setup.sh", "PACKAGES", "array not found")
  setup = setup or []
  report.check("python3-yaml" in setup, "deploy/setup.sh", "PACKAGES",
               "must install python3-yaml (this test)")
  for tag, rel in IMAGE_TAG_DOCKERFILES.items():
    path = os.path.join(root, rel)
    if not report.check(os.path.isfile(path), rel, "file", "missing"):
      continue
    args, stages = src.parse_dockerfile(path)
    names = [s.name for s in stages]
    report.check("builder" in names and "runtime" in names and stages[-1].name == "runtime",
                 rel, "stages", f"{names}: need builder and a final runtime stage")
    by_name = {s.name: s for s in stages}
    for stage in stages:
      for ins in stage.all("COPY"):
        m = re.search(r"--from=(\S+)", ins.value)
        if m:
          report.check(m.group(1) in names, rel, f"line {ins.line} COPY",
                       f"--from={m.group(1)} is no stage")
    builder, runtime = by_name.get("builder"), stages[-1]
    if builder:
      builds = " ".join(i.value for i in builder.all("RUN"))
      for option in ("-DCMAKE_BUILD_TYPE=Release", "-DHNET_BUILD_TESTS=OFF",
                     "-DHNET_BUILD_BENCH=OFF", "-G Ninja"):
        report.check(option in builds, rel, "builder RUN cmake", f"missing {option}")
      targets = [t for m in re.finditer(r"--target\s+([\w\s-]+?)(?:&&|$)", builds)
                 for t in m.group(1).split()]
      for binary in ("hnet-server", "hnet-train", "hnet"):
        report.check(binary in targets and binary in executables, rel, "builder cmake --target",
                     f"must build {binary} (a CMake executable)")
    final_base = src.expand_args(runtime.base, args)
    entry = runtime.last("ENTRYPOINT")
    argv = entry.exec_form() if entry else None
    if report.check(argv is not None, rel, "ENTRYPOINT", "needs the exec (JSON) form, so "
                    "SIGTERM reaches hnet-server"):
      report.check(argv[0] == "hnet-server", rel, "ENTRYPOINT", f"runs {argv[0]}")
      values = {}
      for flag, value in split_flag_args(argv[1:]):
        if flag:
          flags["hnet-server"].check(report, rel, "ENTRYPOINT", flag)
          values[flag] = value
      check_admin_service(values, report, rel, "ENTRYPOINT")
      report.check(values.get("--models") == "/models", rel, "ENTRYPOINT", "--models /models")
      exposed = {int(p.split("/")[0]) for i in runtime.all("EXPOSE") for p in i.value.split()}
      report.check({50051, 9090} <= exposed, rel, "EXPOSE", f"{sorted(exposed)} lacks 50051/9090")
      report.check(first_number(values.get("--metrics_port")) in exposed, rel, "ENTRYPOINT",
                   f"--metrics_port {values.get('--metrics_port')} is not EXPOSEd")
      if tag == "cuda":
        report.check(values.get("--device", "").startswith("cuda"), rel, "ENTRYPOINT",
                     "the CUDA image serves with --device cuda")
    user = runtime.last("USER")
    uid = user.value.split(":")[0] if user else "0"
    report.check(uid not in ("0", "root") and uid.isdigit(), rel, "runtime USER",
                 f"'{user.value if user else ''}': need a numeric non-root user "
                 "(Kubernetes runAsNonRoot verifies numeric ids only)")
    copied = " ".join(i.value for i in runtime.all("COPY"))
    report.check("/usr/local/bin" in copied, rel, "runtime COPY",
                 "binaries must land in /usr/local/bin (on PATH)")
    installed = src.apt_installs(runtime)
    report.check(not [p for p in installed if p.endswith("-dev")], rel, "runtime apt-get install",
                 f"-dev packages in the runtime: {[p for p in installed if p.endswith('-dev')]}")
    health = runtime.last("HEALTHCHECK")
    if health:
      m = re.search(r"CMD\s+(\[.*\])", health.value)
      hc = src.Instruction(health.line, "CMD", m.group(1)).exec_form() if m else None
      if report.check(hc is not None, rel, "HEALTHCHECK", "use CMD in exec form"):
        report.check(hc[0] == "hnet", rel, "HEALTHCHECK", f"runs {hc[0]}, expected hnet")
        for flag, _ in split_flag_args(hc[1:]):
          if flag:
            flags["hnet"].check(report, rel, "HEALTHCHECK", flag)
    if tag == "cpu":
      report.check(final_base == "debian:12" and src.expand_args(builder.base, args) == "debian:12"
                   if builder else False, rel, "FROM", "builder and runtime are debian:12")
      for must in ("libtorch1.13", "libopenblas0-pthread"):
        report.check(must in installed, rel, "runtime apt-get install", f"missing {must}")
      build_pkgs = set(src.apt_installs(builder)) if builder else set()
      wanted = set(setup) - BUILDER_EXCLUDED - {"npm"}
      report.check(wanted <= build_pkgs, rel, "builder apt-get install",
                   f"missing setup.sh packages {sorted(wanted - build_pkgs)}")
      report.check(build_pkgs <= set(setup) | {"ca-certificates"}, rel,
                   "builder apt-get install",
                   f"{sorted(build_pkgs - set(setup))} are not in deploy/setup.sh's PACKAGES")
    else:
      devel = src.expand_args(builder.base, args) if builder else ""
      report.check(re.fullmatch(r"nvidia/cuda:[\d.]+-(cudnn\d+-)?devel-ubuntu[\d.]+", devel)
                   is not None, rel, "builder FROM", f"{devel}: want nvidia/cuda:*-devel-*")
      report.check(devel.replace("-devel-", "-runtime-") == final_base, rel, "runtime FROM",
                   f"{final_base} does not match the builder's {devel}")
      text = open(path, encoding="utf-8").read()
      report.check("ARG LIBTORCH_URL" in text and "CMAKE_PREFIX_PATH" in text, rel, "builder",
                   "needs ARG LIBTORCH_URL and CMAKE_PREFIX_PATH pointing at LibTorch")
  ignore_path = os.path.join(root, ".dockerignore")
  if report.check(os.path.isfile(ignore_path), ".dockerignore", "file", "missing"):
    entries = {l.strip().rstrip("/") for l in open(ignore_path, encoding="utf-8")
               if l.strip() and not l.startswith("#")}
    for must in ("build*", "data", "runs", ".git"):
      report.check(must in entries, ".dockerignore", "entries", f"must exclude {must}")


# -------------------------------------------------------------------------------- systemd --


def check_systemd(root, report, flags):
  rel = "deploy/systemd/hnet-server.service"
  path = os.path.join(root, rel)
  if not report.check(os.path.isfile(path), rel, "file", "missing"):
    return
  unit = src.parse_unit(path)
  for section in ("Unit", "Service", "Install"):
    report.check(section in unit, rel, f"[{section}]", "missing section")
  service = unit.get("Service", [])
  values = {}
  environment = {}
  for key, value, _ in service:
    values.setdefault(key, []).append(value)
    if key == "Environment":
      k, _, v = value.partition("=")
      environment[k] = v
  one = lambda k: (values.get(k) or [None])[-1]  # noqa: E731
  expected = {"Type": "simple", "Restart": "on-failure", "KillSignal": "SIGTERM",
              "ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
              "ProtectHome": "yes"}
  for key, want in expected.items():
    report.check(one(key) == want, rel, f"[Service] {key}", f"{one(key)}, want {want}")
  report.check(one("DynamicUser") == "yes" or (one("User") not in (None, "root", "0")), rel,
               "[Service] User", "run as a dedicated user or DynamicUser=yes")
  reload = one("ExecReload") or ""
  report.check("-HUP" in reload and "$MAINPID" in reload, rel, "[Service] ExecReload",
               "must send SIGHUP to $MAINPID (rescans the models directory)")
  report.check(src.server_handles_signal(root, "SIGHUP"), rel, "[Service] ExecReload",
               "sends SIGHUP but server/*.cc installs no SIGHUP handler: SIGHUP's default "
               "action would stop the server on `systemctl reload`")
  env_example = os.path.join(root, "deploy/systemd/hnet-server.env.example")
  example = src.parse_env_file(env_example) if os.path.isfile(env_example) else {}
  report.check(bool(example), "deploy/systemd/hnet-server.env.example", "file", "missing or empty")
  env_file = one("EnvironmentFile") or ""
  report.check(env_file.lstrip("-") == "/etc/hnet/hnet-server.env", rel,
               "[Service] EnvironmentFile", f"{env_file}: want -/etc/hnet/hnet-server.env")
  # ExecStart: hnet-server with known flags, every ${VAR} defaulted in the unit.
  exec_start = (one("ExecStart") or "").split()
  report.check(bool(exec_start) and os.path.basename(exec_start[0]) == "hnet-server", rel,
               "[Service] ExecStart", "must run hnet-server")
  used = set(re.findall(r"\$\{?(\w+)\}?", " ".join(exec_start)))
  for var in used:
    report.check(var in environment, rel, "[Service] ExecStart",
                 f"${{{var}}} has no Environment={var}= default in the unit")
  flags_used = {}
  for flag, value in split_flag_args(exec_start[1:]):
    if flag:
      flags["hnet-server"].check(report, rel, "[Service] ExecStart", flag)
      flags_used[flag] = value
  for key, (value, line) in example.items():
    where = f"deploy/systemd/hnet-server.env.example:{line}"
    report.check(key in used, where, key, "is not used by ExecStart (typo?)")
    if key == "HNET_EXTRA_ARGS":
      for flag, _ in split_flag_args(value.split()):
        if flag:
          flags["hnet-server"].check(report, where, key, flag)
  # ModelAdmin, with the unit's defaults alone and with the example environment file.
  for label, env in (("defaults", environment),
                     ("with hnet-server.env.example",
                      {**environment, **{k: v for k, (v, _) in example.items()}})):
    expand = lambda text: re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), text)  # noqa: E731
    argv = expand(" ".join(exec_start[1:])).split()
    effective = {f: v for f, v in split_flag_args(argv) if f}
    check_admin_service(effective, report, rel, f"[Service] ExecStart ({label})")
  # Stop arithmetic: TimeoutStopSec > drain timeout (unit default and example) + margin.
  stop = first_number((one("TimeoutStopSec") or "").rstrip("s"))
  drains = [first_number(environment.get("HNET_DRAIN_TIMEOUT_S"))]
  if "HNET_DRAIN_TIMEOUT_S" in example:
    drains.append(first_number(example["HNET_DRAIN_TIMEOUT_S"][0]))
  drain = max([d for d in drains if d is not None], default=None)
  if report.check(stop is not None and drain is not None, rel, "[Service] TimeoutStopSec",
                  "TimeoutStopSec and HNET_DRAIN_TIMEOUT_S must be set"):
    report.check(stop >= drain + STOP_MARGIN_S, rel, "[Service] TimeoutStopSec",
                 f"{stop:g} s < --drain_timeout_s {drain:g} s + {STOP_MARGIN_S} s: systemd would "
                 "SIGKILL calls still draining")
  models = environment.get("HNET_MODELS_DIR")
  report.check(models is not None and models in " ".join(values.get("ReadOnlyPaths", [])), rel,
               "[Service] ReadOnlyPaths", f"must include the models dir {models}")
  report.check("--models" in flags_used, rel, "[Service] ExecStart", "--models is required")
  sysusers = os.path.join(root, "deploy/systemd/hnet.sysusers.conf")
  if os.path.isfile(sysusers) and one("User"):
    declared = [l.split()[1] for l in open(sysusers, encoding="utf-8")
                if l.strip() and not l.startswith("#") and l.split()[0] == "u"]
    report.check(one("User") in declared, "deploy/systemd/hnet.sysusers.conf", "u",
                 f"declares {declared}, the unit runs as {one('User')}")
  verify_with_systemd(path, rel, report)


def verify_with_systemd(path, rel, report):
  analyze = shutil.which("systemd-analyze")
  if not analyze:
    print(f"note: systemd-analyze not found; {rel} checked by parsing only")
    return
  import tempfile
  with tempfile.TemporaryDirectory() as tmp:
    fake = os.path.join(tmp, "hnet-server")
    with open(fake, "w") as f:
      f.write("#!/bin/sh\n")
    os.chmod(fake, 0o755)
    unit = os.path.join(tmp, "hnet-server.service")
    with open(path, encoding="utf-8") as f:
      text = f.read().replace("/usr/local/bin/hnet-server", fake)
    with open(unit, "w") as f:
      f.write(text)
    run = subprocess.run([analyze, "verify", "--man=no", unit], capture_output=True, text=True,
                         timeout=120)
    problems = [l for l in (run.stdout + run.stderr).splitlines() if "hnet-server.service" in l]
    report.check(run.returncode == 0 and not problems, rel, "systemd-analyze verify",
                 "; ".join(problems) or f"exit {run.returncode}")


# ------------------------------------------------------------------------------------ main --


def validate(root, strict=False, use_kubectl=True):
  report = Report(strict)
  flags = {
      "hnet-server": Flags("hnet-server", src.server_flags(root), PENDING_FLAGS),
      "hnet-train": Flags("hnet-train", src.trainer_flags(root)),
      "hnet": Flags("hnet", src.client_cli_flags(root)),
  }
  for binary, f in flags.items():
    report.check(len(f.known) > 3, binary, "sources", "found no CLI11 flags; did main.cc move?")
  executables = src.cmake_executables(root)
  check_dockerfiles(root, report, flags, executables)
  check_kubernetes(root, report, flags, use_kubectl)
  check_systemd(root, report, flags)
  return report


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
  parser.add_argument("--strict", action="store_true",
                      default=os.environ.get("HNET_DEPLOY_STRICT") == "1")
  parser.add_argument("--no-kubectl", action="store_true")
  args = parser.parse_args()
  report = validate(os.path.abspath(args.root), args.strict, not args.no_kubectl)
  for line in report.warnings + report.errors:
    print(line)
  print(f"deploy manifests: {report.checks} checks, {len(report.errors)} failed, "
        f"{len(report.warnings)} warnings")
  return 1 if report.errors else 0


if __name__ == "__main__":
  sys.exit(main())
