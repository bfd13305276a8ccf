"""Renders the kustomizations under deploy/k8s without kubectl.

Supports the subset deploy/k8s uses, and refuses anything else by name so that a new
kustomize feature cannot be silently ignored: resources (files and directories), namespace,
configMapGenerator (envs, literals, files; behavior create/merge/replace, no hash suffix),
images (newName/newTag), patches (strategic merge, or JSON 6902 with a target).
When kubectl is available the validator also renders with `kubectl kustomize` and requires
both renderings to agree (modulo the generated names' hash suffixes).
"""
import copy
import os

import yaml

SUPPORTED_KEYS = {"apiVersion", "kind", "namespace", "resources", "configMapGenerator",
                  "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume",
                  "StorageClass", "CustomResourceDefinition", "PriorityClass"}
# Strategic-merge keys of the list fields deploy/k8s patches (Kubernetes' patchMergeKey).
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name",
              "volumes": "name", "volumeMounts": "mountPath", "ports": "containerPort",
              "imagePullSecrets": "name"}


class KustomizeError(Exception):
  pass


def load_yaml_documents(path):
  """All non-empty YAML documents of `path`."""
  with open(path, encoding="utf-8") as f:
    return [d for d in yaml.safe_load_all(f) if d is not None]


def resource_key(doc):
  return (doc.get("kind"), doc.get("metadata", {}).get("name"))


def strategic_merge(base, patch):
  """Merges `patch` into `base` (both parsed YAML) the way kubectl's strategic merge does for
  the fields in MERGE_KEYS; other lists are replaced, null deletes a key."""
  if not isinstance(base, dict) or not isinstance(patch, dict):
    return copy.deepcopy(patch)
  out = copy.deepcopy(base)
  for key, value in patch.items():
    if value is None:
      out.pop(key, None)
    elif key in out and isinstance(out[key], dict) and isinstance(value, dict):
      out[key] = strategic_merge(out[key], value)
    elif (key in MERGE_KEYS and isinstance(value, list) and isinstance(out.get(key), list)):
      merge_key = MERGE_KEYS[key]
      merged, added = copy.deepcopy(out[key]), []
      for item in value:
        match = [i for i, old in enumerate(merged)
                 if isinstance(old, dict) and old.get(merge_key) == item.get(merge_key)]
        if match:
          merged[match[0]] = strategic_merge(merged[match[0]], item)
        else:
          added.append(copy.deepcopy(item))
      out[key] = added + merged  # kustomize puts items new to the list first
    else:
      out[key] = copy.deepcopy(value)
  return out


def _pointer(path):
  if not path.startswith("/"):
    raise KustomizeError(f"JSON patch path '{path}' must start with '/'")
  return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json6902(doc, ops, where):
  """Applies JSON 6902 `ops` (add, replace, remove) to a copy of `doc`."""
  out = copy.deepcopy(doc)
  for op in ops:
    parts = _pointer(op["path"])
    parent = out
    for part in parts[:-1]:
      parent = parent[int(part)] if isinstance(parent, list) else parent.get(part)
      if parent is None:
        raise KustomizeError(f"{where}: JSON patch path {op['path']} does not exist")
    last = parts[-1]
    kind = op["op"]
    if isinstance(parent, list):
      index = len(parent) if last == "-" else int(last)
      if kind == "add":
        parent.insert(index, copy.deepcopy(op["value"]))
      elif kind == "replace":
        parent[index] = copy.deepcopy(op["value"])
      elif kind == "remove":
        del parent[index]
      else:
        raise KustomizeError(f"{where}: JSON patch op '{kind}' is not supported")
    else:
      if kind in ("add", "replace"):
        if kind == "replace" and last not in parent:
          raise KustomizeError(f"{where}: JSON patch replace of missing {op['path']}")
        parent[last] = copy.deepcopy(op["value"])
      elif kind == "remove":
        if last not in parent:
          raise KustomizeError(f"{where}: JSON patch remove of missing {op['path']}")
        del parent[last]
      else:
        raise KustomizeError(f"{where}: JSON patch op '{kind}' is not supported")
  return out


def _parse_env_lines(text, where):
  data = {}
  for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
      continue
    if "=" not in line:
      raise KustomizeError(f"{where}: '{line}' is not KEY=VALUE")
    key, value = line.split("=", 1)
    data[key] = value
  return data


def _generate_config_map(directory, spec, where):
  data = {}
  for env_file in spec.get("envs", []):
    with open(os.path.join(directory, env_file), encoding="utf-8") as f:
      data.update(_parse_env_lines(f.read(), f"{where} envs {env_file}"))
  for literal in spec.get("literals", []):
    data.update(_parse_env_lines(literal, f"{where} literals"))
  for entry in spec.get("files", []):
    key, _, path = entry.partition("=")
    if not path:
      key, path = os.path.basename(entry), entry
    with open(os.path.join(directory, path), encoding="utf-8") as f:
      data[key] = f.read()
  unknown = set(spec) - {"name", "behavior", "envs", "literals", "files"}
  if unknown:
    raise KustomizeError(f"{where}: configMapGenerator fields {sorted(unknown)} unsupported")
  return {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": spec["name"]}, "data": data}


def _pod_specs(doc):
  spec = doc.get("spec", {})
  if doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
    yield spec.get("template", {}).get("spec", {})
  elif doc.get("kind") == "Pod":
    yield spec


def _set_images(docs, images):
  for doc in docs:
    for pod in _pod_specs(doc):
      for container in pod.get("containers", []) + pod.get("initContainers", []):
        image = container.get("image", "")
        name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
        for rule in images:
          if rule["name"] == name:
            container["image"] = f"{rule.get('newName', name)}:{rule.get('newTag', tag)}"


def build(directory, generated=None):
  """Renders the kustomization in `directory`: a list of resources. `generated` collects the
  names of generated ConfigMaps (kubectl appends a hash to them)."""
  generated = generated if generated is not None else set()
  path = os.path.join(directory, "kustomization.yaml")
  if not os.path.isfile(path):
    raise KustomizeError(f"{directory}: no kustomization.yaml")
  docs = load_yaml_documents(path)
  if len(docs) != 1 or not isinstance(docs[0], dict):
    raise KustomizeError(f"{path}: expected one mapping")
  k = docs[0]
  unknown = set(k) - SUPPORTED_KEYS
  if unknown:
    raise KustomizeError(f"{path}: fields {sorted(unknown)} are not supported by "
                         "tests/deploy/kustomize_lite.py; extend it or avoid them")
  resources = []
  for entry in k.get("resources", []):
    target = os.path.normpath(os.path.join(directory, entry))
    if os.path.isdir(target):
      resources.extend(build(target, generated))
    elif os.path.isfile(target):
      resources.extend(load_yaml_documents(target))
    else:
      raise KustomizeError(f"{path}: resource '{entry}' does not exist")
  for spec in k.get("configMapGenerator", []):
    generated.add(spec["name"])
    cm = _generate_config_map(directory, spec, f"{path} configMapGenerator {spec['name']}")
    behavior = spec.get("behavior", "create")
    existing = [i for i, d in enumerate(resources)
                if resource_key(d) == ("ConfigMap", spec["name"])]
    if behavior == "create":
      if existing:
        raise KustomizeError(f"{path}: ConfigMap {spec['name']} already exists (use merge)")
      resources.append(cm)
    elif not existing:
      raise KustomizeError(f"{path}: behavior {behavior} but no ConfigMap {spec['name']}")
    elif behavior == "merge":
      resources[existing[0]]["data"].update(cm["data"])
    elif behavior == "replace":
      resources[existing[0]] = cm
    else:
      raise KustomizeError(f"{path}: unknown behavior '{behavior}'")
  for patch_spec in k.get("patches", []):
    if "path" in patch_spec:
      patch_docs = load_yaml_documents(os.path.join(directory, patch_spec["path"]))
      where = os.path.join(directory, patch_spec["path"])
    else:
      patch_docs = [yaml.safe_load(patch_spec["patch"])]
      where = f"{path} inline patch"
    if len(patch_docs) != 1:
      raise KustomizeError(f"{where}: one patch per file")
    patch = patch_docs[0]
    target = patch_spec.get("target")
    if isinstance(patch, list):
      if not target:
        raise KustomizeError(f"{where}: a JSON 6902 patch needs a target")
      want = (target.get("kind"), target.get("name"))
    else:
      want = (target or {}).get("kind", patch.get("kind")), (target or {}).get(
          "name", patch.get("metadata", {}).get("name"))
    hits = [i for i, d in enumerate(resources) if resource_key(d) == tuple(want)]
    if not hits:
      raise KustomizeError(f"{where}: patch target {want[0]}/{want[1]} not found")
    for i in hits:
      resources[i] = (json6902(resources[i], patch, where) if isinstance(patch, list)
                      else strategic_merge(resources[i], patch))
  _set_images(resources, k.get("images", []))
  namespace = k.get("namespace")
  if namespace:
    for doc in resources:
      if doc.get("kind") not in CLUSTER_SCOPED:
        doc.setdefault("metadata", {})["namespace"] = namespace
  return resources
