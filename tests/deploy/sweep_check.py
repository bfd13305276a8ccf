"""Runs the sweep Job's script (as rendered into its ConfigMap) for every completion index with a
stand-in hnet-train, and checks that index i trains lambda i with flags hnet-train accepts,
publishes one checkpoint per lambda into the models dir, resumes a staged checkpoint, skips a
published one, refuses an index past the list and refuses a lambda that would make an
unservable model name (1e+3)."""
import os
import re
import shutil
import subprocess
import tempfile

# What hnet-server accepts as a model name (server/model_directory.cc); other files are skipped.
MODEL_NAME = re.compile(r"[A-Za-z0-9._-]+")

FAKE_TRAIN = r"""#!/bin/sh
# Stand-in for hnet-train: logs its argv (one word per line, then a blank line) and writes
# --out atomically, recording --lambda.
for word in "$@"; do printf '%s\n' "$word"; done >> "$FAKE_LOG"
printf '\n' >> "$FAKE_LOG"
out=""; lambda=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift ;;
    --lambda) lambda="$2"; shift ;;
  esac
  shift
done
[ -n "$out" ] || { echo "fake hnet-train: no --out" >&2; exit 3; }
printf 'lambda=%s\n' "$lambda" > "$out.tmp.1" && mv "$out.tmp.1" "$out"
"""


def _calls(log):
  if not os.path.exists(log):
    return []
  with open(log) as f:
    blocks = f.read().split("\n\n")
  return [b.split("\n") for b in blocks if b.strip()]


def _flag_value(argv, flag):
  return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None


def check_sweep_script(script, job_env, lambdas, train_flags, report, where):
  sh = shutil.which("sh") or ("/bin/sh" if os.path.exists("/bin/sh") else None)
  if not report.check(sh is not None, where, "sweep script", "no sh to run it"):
    return
  with tempfile.TemporaryDirectory() as tmp:
    script_path = os.path.join(tmp, "sweep.sh")
    with open(script_path, "w") as f:
      f.write(script)
    fake = os.path.join(tmp, "hnet-train")
    with open(fake, "w") as f:
      f.write(FAKE_TRAIN)
    os.chmod(fake, 0o755)
    shared = os.path.join(tmp, "shared")
    models, staging = os.path.join(shared, "models"), os.path.join(shared, "staging")
    log = os.path.join(tmp, "calls.log")

    def run(index, **extra):
      env = {"PATH": os.environ.get("PATH", "") + ":/usr/bin:/bin"}
      env.update(job_env)
      env.update({"JOB_COMPLETION_INDEX": str(index), "HNET_MODELS_DIR": models,
                  "HNET_STAGING_DIR": staging, "HNET_TRAIN": fake, "FAKE_LOG": log})
      env.update(extra)
      return subprocess.run([sh, script_path], env=env, capture_output=True, text=True,
                            timeout=60)

    published = {}
    for index, lam in enumerate(lambdas):
      before = set(os.listdir(models)) if os.path.isdir(models) else set()
      calls_before = len(_calls(log))
      result = run(index)
      field = f"sweep script, JOB_COMPLETION_INDEX={index}"
      if not report.check(result.returncode == 0, where, field,
                          f"exit {result.returncode}: {result.stderr.strip()}"):
        continue
      calls = _calls(log)[calls_before:]
      if not report.check(len(calls) == 1, where, field, f"ran hnet-train {len(calls)} times"):
        continue
      argv = calls[0]
      report.check(_flag_value(argv, "--lambda") == lam, where, field,
                   f"trained --lambda {_flag_value(argv, '--lambda')}, want {lam}")
      for word in argv:
        if word.startswith("--"):
          train_flags.check(report, where, f"{field} hnet-train argv", word)
      out = _flag_value(argv, "--out") or ""
      report.check(out.startswith(staging + "/"), where, field,
                   f"--out {out} is not under the staging dir")
      new = sorted(set(os.listdir(models)) - before)
      if report.check(len(new) == 1 and new[0].endswith(".hnet"), where, field,
                      f"published {new}, want one new *.hnet in the models dir"):
        with open(os.path.join(models, new[0])) as f:
          content = f.read().strip()
        report.check(content == f"lambda={lam}", where, field,
                     f"{new[0]} holds '{content}', not the lambda {lam} checkpoint")
        report.check(lam in new[0], where, field, f"{new[0]}: the name must carry the lambda")
        report.check(MODEL_NAME.fullmatch(new[0][:-len(".hnet")]) is not None, where, field,
                     f"{new[0]}: not a model name hnet-server serves ([A-Za-z0-9._-]+)")
        report.check(not os.path.exists(out), where, field, f"{out} left in staging")
        published[lam] = new[0]
    report.check(len(set(published.values())) == len(lambdas), where, "sweep script",
                 f"published {sorted(published.values())} for {len(lambdas)} lambdas")

    result = run(len(lambdas))
    report.check(result.returncode != 0 and "out of range" in result.stderr, where,
                 f"sweep script, JOB_COMPLETION_INDEX={len(lambdas)}",
                 f"must fail naming the range (exit {result.returncode}: {result.stderr.strip()})")
    # '+' (1e+3) is a number to hnet-train but not allowed in a model name: the server would
    # skip the published file.
    calls_before = len(_calls(log))
    before = set(os.listdir(models)) if os.path.isdir(models) else set()
    result = run(0, HNET_SWEEP_LAMBDAS="1e+3 1e4")
    after = set(os.listdir(models)) if os.path.isdir(models) else set()
    report.check(result.returncode != 0 and "1e+3" in result.stderr and
                 len(_calls(log)) == calls_before and after == before, where,
                 "sweep script, HNET_SWEEP_LAMBDAS=1e+3", "must refuse the lambda, naming it, "
                 f"before training (exit {result.returncode}: {result.stderr.strip()}, "
                 f"published {sorted(after - before)})")
    calls_before = len(_calls(log))
    result = run(0)
    report.check(result.returncode == 0 and len(_calls(log)) == calls_before, where,
                 "sweep script, rerun of a published index", "must not retrain")
    if lambdas and published.get(lambdas[0]):
      # A retried pod finds its staged checkpoint and resumes it.
      stem = published[lambdas[0]][:-len(".hnet")]
      staged = os.path.join(staging, stem, stem + ".hnet")
      os.makedirs(os.path.dirname(staged), exist_ok=True)
      with open(staged, "w") as f:
        f.write("partial\n")
      calls_before = len(_calls(log))
      result = run(0)
      calls = _calls(log)[calls_before:]
      report.check(result.returncode == 0 and len(calls) == 1 and
                   _flag_value(calls[0], "--resume") == staged, where,
                   "sweep script, retried index", f"must resume {staged}: {calls} "
                   f"{result.stderr.strip()}")
