"""Parsers for what deploy/ is checked against: the flags the binaries accept (read from the
C++ sources at test time), CMake executables, setup.sh's package list, Dockerfiles and
systemd unit files."""
import glob
import json
import os
import re
import shlex

# CLI11 registrations: app.add_option("--a,-b", ...), sub->add_flag("--x", ...), ...
_CLI11_CALL = re.compile(
    r"add_(?:option|flag)(?:_function|_callback)?\s*(?:<[^>]*>)?\(\s*\"([^\"]+)\"")


def cli_flags(root, patterns):
  """The option names ('--port', '-n') registered with CLI11 in the files matching
  `patterns` (globs relative to `root`)."""
  flags = set()
  for pattern in patterns:
    for path in glob.glob(os.path.join(root, pattern)):
      with open(path, encoding="utf-8") as f:
        for match in _CLI11_CALL.finditer(f.read()):
          for name in match.group(1).split(","):
            name = name.split("{")[0].strip()  # "--flag{true}": the value a bare flag takes
            if name.startswith("-"):
              flags.add(name)
  return flags


def server_flags(root):
  return cli_flags(root, ["server/*.cc", "server/*.h"])


def trainer_flags(root):
  return cli_flags(root, ["trainer/*.cc", "trainer/*.h"])


def client_cli_flags(root):
  return cli_flags(root, ["client/cli/*.cc", "client/cli/*.h"])


def server_handles_signal(root, signal_name):
  """True when the server sources install a handler for `signal_name` (e.g. 'SIGHUP')."""
  for path in glob.glob(os.path.join(root, "server/*.cc")):
    with open(path, encoding="utf-8") as f:
      if re.search(r"(sigaction|signal)\s*\(\s*" + signal_name + r"\b", f.read()):
        return True
  return False


def cmake_executables(root):
  """Names of add_executable targets anywhere in the source tree (not build dirs)."""
  names = set()
  for path in glob.glob(os.path.join(root, "**/CMakeLists.txt"), recursive=True):
    rel = os.path.relpath(path, root)
    if rel.startswith(("build", "data")):
      continue
    with open(path, encoding="utf-8") as f:
      names.update(re.findall(r"add_executable\(\s*([\w-]+)", f.read()))
  return names


def setup_packages(root):
  """The PACKAGES=( ... ) array of deploy/setup.sh."""
  with open(os.path.join(root, "deploy/setup.sh"), encoding="utf-8") as f:
    match = re.search(r"^PACKAGES=\((.*?)^\)", f.read(), re.S | re.M)
  if not match:
    return None
  return [w for w in shlex.split(match.group(1), comments=True)]


class Instruction:
  def __init__(self, line, keyword, value):
    self.line, self.keyword, self.value = line, keyword, value

  def exec_form(self):
    """The JSON array of an exec-form ENTRYPOINT/CMD, or None for the shell form."""
    try:
      parsed = json.loads(self.value)
    except ValueError:
      return None
    return parsed if isinstance(parsed, list) else None


class Stage:
  def __init__(self, base, name, line):
    self.base, self.name, self.line = base, name, line
    self.instructions = []

  def all(self, keyword):
    return [i for i in self.instructions if i.keyword == keyword]

  def last(self, keyword):
    found = self.all(keyword)
    return found[-1] if found else None


def parse_dockerfile(path):
  """(global ARG defaults, stages) of a Dockerfile; line continuations joined, comments and
  parser directives dropped."""
  with open(path, encoding="utf-8") as f:
    lines = f.read().split("\n")
  instructions, buffer, start = [], "", 0
  for number, raw in enumerate(lines, 1):
    stripped = raw.strip()
    if not buffer and (not stripped or stripped.startswith("#")):
      continue
    if buffer and stripped.startswith("#"):
      continue
    if not buffer:
      start = number
    if stripped.endswith("\\"):
      buffer += stripped[:-1] + " "
      continue
    buffer += stripped
    keyword, _, value = buffer.partition(" ")
    instructions.append(Instruction(start, keyword.upper(), value.strip()))
    buffer = ""
  args, stages = {}, []
  for ins in instructions:
    if ins.keyword == "FROM":
      words = ins.value.split()
      words = [w for w in words if not w.startswith("--")]
      name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
      stages.append(Stage(words[0], name, ins.line))
    elif not stages:
      if ins.keyword == "ARG":
        key, _, default = ins.value.partition("=")
        args[key] = default
    else:
      stages[-1].instructions.append(ins)
  return args, stages


def expand_args(text, args):
  """Substitutes ${NAME} and $NAME with ARG defaults."""
  return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)


def apt_installs(stage):
  """Package names installed with apt-get install in `stage`'s RUN instructions."""
  packages = []
  for ins in stage.all("RUN"):
    for command in re.split(r"&&|;|\|\|", ins.value):
      words = command.split()
      if "apt-get" in words and "install" in words:
        after = words[words.index("install") + 1:]
        packages.extend(w for w in after if not w.startswith("-"))
  return packages


def parse_unit(path):
  """A systemd unit as {section: [(key, value, line), ...]}, continuation lines joined."""
  sections, current, buffer, start = {}, None, "", 0
  with open(path, encoding="utf-8") as f:
    lines = f.read().split("\n")
  for number, raw in enumerate(lines, 1):
    stripped = raw.strip()
    if not buffer and (not stripped or stripped[0] in "#;"):
      continue
    if not buffer:
      start = number
    if stripped.endswith("\\"):
      buffer += stripped[:-1] + " "
      continue
    buffer += stripped
    if buffer.startswith("[") and buffer.endswith("]"):
      current = buffer[1:-1]
      sections.setdefault(current, [])
    elif current is not None and "=" in buffer:
      key, _, value = buffer.partition("=")
      sections[current].append((key.strip(), value.strip(), start))
    buffer = ""
  return sections


def parse_env_file(path):
  """KEY=VALUE lines of an environment file (systemd EnvironmentFile=, kustomize envs)."""
  out = {}
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      line = line.strip()
      if line and not line.startswith("#") and "=" in line:
        key, _, value = line.partition("=")
        out[key.strip()] = (value.strip(), number)
  return out
