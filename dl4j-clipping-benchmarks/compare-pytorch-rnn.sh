#!/usr/bin/env bash
# A recurrent training step (forward, backward, global-norm clipping 1.0, Adam 1e-3, float) side by side with
# PyTorch, one after the other on the same machine, with 1 thread (and with 2 given "2" as first argument):
#   ours     : RecurrentStepBenchmark (JMH), cells native_lstm (NativeLSTM), gru (our GRU), dl4j_lstm (DL4J's LSTM)
#   PyTorch  : pytorch_rnn_step.py, nn.LSTM / nn.GRU, the same configurations (its docstring says what is timed)
# Configurations (layers x width, T x batch, nIn, classes): uci-w10 1x10 60x10 1 6, uci-w64 1x64 60x10 1 6,
# classify-w32 1x32 100x32 65 65, char-w256 1x256 100x32 65 65, charlm-2x256 2x256 100x32 65 65,
# gru-bench-2x256 2x256 64x32 65 65.
# Prints one table: ms per step, our ratio to PyTorch and DL4J's LSTM's ratio to ours; the load before each half.
# PyTorch figures are medians of 30 steps; ours JMH averages over 5 two-second iterations, with their error.
#
# Usage: dl4j-clipping-benchmarks/compare-pytorch-rnn.sh [THREADS] [extra JMH options]   (after mvn package; on a
# quiet machine). Needs /usr/bin/python3 with torch (Debian's python3-torch, and libopenblas0-pthread, without which
# it runs the reference BLAS, 12x slower); exits 0 with a message when torch is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/target/benchmarks.jar"
py="${PYTHON:-/usr/bin/python3}"
threads="${1:-1}"
shift || true

if ! [ -x "$py" ] || ! "$py" -c 'import torch' 2>/dev/null; then
  echo "compare-pytorch-rnn: $py with torch not found; skipping the PyTorch comparison." >&2
  exit 0
fi
[ -f "$jar" ] || { echo "compare-pytorch-rnn: $jar missing: run mvn -B package -DskipTests first" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== $threads thread(s); load before JMH: $(uptime)"
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads java -jar "$jar" 'RecurrentStepBenchmark' \
  -rf json -rff "$out/jmh.json" "$@" > "$out/jmh.log" 2>&1 || { tail -40 "$out/jmh.log"; exit 1; }
echo "load after JMH, before PyTorch: $(uptime)"
"$py" "$here/pytorch_rnn_step.py" --threads "$threads" --json "$out/torch.json" > "$out/torch.log"
head -1 "$out/torch.log"
echo "load after PyTorch: $(uptime)"

"$py" - "$out/jmh.json" "$out/torch.json" <<'PY'
import json, sys
ours = {}
for r in json.load(open(sys.argv[1])):
    p = r["params"]
    m = r["primaryMetric"]
    ours[(p["config"], p["cell"])] = (m["score"], m["scoreError"])
torch = {(r["config"], r["cell"]): r["median_ms"] for r in json.load(open(sys.argv[2]))}
configs = ["uci-w10", "uci-w64", "classify-w32", "char-w256", "charlm-2x256", "gru-bench-2x256"]
print("| config | PyTorch nn.LSTM | NativeLSTM (ratio) | DL4J LSTM (x NativeLSTM) | PyTorch nn.GRU | our GRU (ratio) |")
print("|---|---|---|---|---|---|")
def cell(c, k):
    s, e = ours.get((c, k), (float("nan"), float("nan")))
    return s, e
for c in configs:
    tl, tg = torch.get((c, "lstm"), float("nan")), torch.get((c, "gru"), float("nan"))
    nl, nle = cell(c, "native_lstm")
    dl, dle = cell(c, "dl4j_lstm")
    g, ge = cell(c, "gru")
    print(f"| {c} | {tl:.1f} ms | {nl:.1f} ± {nle:.1f} ms ({nl / tl:.2f}x) | {dl:.1f} ± {dle:.1f} ms ({dl / nl:.1f}x) "
          f"| {tg:.1f} ms | {g:.1f} ± {ge:.1f} ms ({g / tg:.2f}x) |")
PY
