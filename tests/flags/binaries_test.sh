#!/bin/bash
# Every hnet binary reads its integer flags as decimal numbers (hnet::flags::RequireDecimalIntegers):
# a hex value is refused naming the flag, before any work. Usage: binaries_test.sh <bin dir>
set -u
bin="$1"
failures=0
check() {  # check <expected message> <binary> <args...>
  local expected="$1" binary="$2"
  shift 2
  local output
  output="$("${bin}/${binary}" "$@" 2>&1)"
  local rc=$?
  if [ "${rc}" -eq 0 ] || [[ "${output}" != *"${expected}"* ]]; then
    echo "FAIL: ${binary} $*: exit ${rc}, wanted '${expected}' in: ${output}"
    failures=$((failures + 1))
  else
    echo "ok: ${binary} $*"
  fi
}
check "--steps: must be a decimal integer, got 0x10" hnet-train --out /nonexistent/a.hnet --steps 0x10
check "--seed: must be an integer >= 0, got -1" hnet-train --out /nonexistent/a.hnet --seed -1
check "--epochs: must be a decimal integer, got 010x" hnet-baseline --out /nonexistent/a.hnetw --epochs 010x
check "--port: must be a decimal integer, got 0x1" hnet-server --models /nonexistent --port 0x1
check "--networks: must be a decimal integer, got 1e3" hnet-eval --checkpoint /nonexistent --out /nonexistent --networks 1e3
check "--seed: must be a decimal integer >= 0, got 0x10" hnet sample --server 127.0.0.1:1 --seed 0x10
check "--points: must be a decimal integer, got 0x3" hnet path --server 127.0.0.1:1 --points 0x3
check "--model_version: must be a decimal integer, got 0x1" hnet --model_version 0x1 info
check "--max_message_mb: must be a number in" hnet --max_message_mb nan info
exit $((failures > 0))
