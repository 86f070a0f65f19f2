#!/usr/bin/env bash
# Our clipping against PyTorch's, same sizes, same machine, one after the other, with 1 and with 2 threads:
#   global norm     : GlobalNormClipBenchmark.ours (layout=100, threshold=clipping)  vs  clip_grad_norm_
#                     on 1e7 floats in 100 tensors of 1e5, max_norm 1.0 (N(0,1) values: every call clips)
#   parameter norm  : GlobalNormClipBenchmark.oursParameterNorm (the same)           vs  clip_grad_norm_([p], 1.0)
#                     for each of the 100 tensors
#   value           : ElementwiseClipBenchmark.oursValue (layout=1, 1e7 floats, c=2) vs  clip_grad_value_, 2.0
#   zero-out        : ElementwiseClipBenchmark.oursZeroOut (the same)                vs  g.masked_fill_(g.abs() > 2, 0)
#                     (in place; the issue's torch.where(g.abs() > t, 0, g) allocates a new tensor and is slower)
# Both sides restore the original values before every timed call, outside the timing.
# ND4J reads OMP_NUM_THREADS when it starts; OpenBLAS reads OPENBLAS_NUM_THREADS; PyTorch gets
# torch.set_num_threads(n). PyTorch figures are medians of 60 runs; ours are JMH averages with their error.
#
# Usage: dl4j-clipping-benchmarks/compare-pytorch.sh [extra JMH options]   (after mvn package; quiet machine)
# Needs /usr/bin/python3 with torch (Debian's python3-torch); exits 0 with a message when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/target/benchmarks.jar"
py="${PYTHON:-/usr/bin/python3}"

if ! [ -x "$py" ] || ! "$py" -c 'import torch' 2>/dev/null; then
  echo "compare-pytorch: $py with torch not found; skipping the PyTorch comparison." >&2
  exit 0
fi
[ -f "$jar" ] || { echo "compare-pytorch: $jar missing: run mvn -B package -DskipTests first" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for threads in 1 2; do
  echo "== $threads thread(s); load before: $(uptime)"
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads java -jar "$jar" \
    'GlobalNormClipBenchmark.(ours|oursParameterNorm)$' 'ElementwiseClipBenchmark.(oursValue|oursZeroOut)$' \
    -p threshold=clipping -rf json -rff "$out/jmh-$threads.json" "$@" > "$out/jmh.log" 2>&1 \
    || { tail -40 "$out/jmh.log"; exit 1; }
  echo "load after JMH: $(uptime)"

  "$py" - "$out/jmh-$threads.json" "$threads" <<'PY'
import json, statistics, sys, time
import torch

threads = int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(42)

def median_ms(setup, fn, runs=60, warmup=10):
    times = []
    for k in range(warmup + runs):
        setup()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        if k >= warmup:
            times.append((t1 - t0) * 1e3)
    return statistics.median(times), min(times), max(times)

# 100 tensors of 1e5 floats, N(0, 1), max_norm 1.0
orig = [torch.randn(100_000) for _ in range(100)]
params = [torch.nn.Parameter(torch.empty(100_000)) for _ in range(100)]
for p, o in zip(params, orig):
    p.grad = o.clone()
def restore_norm():
    for p, o in zip(params, orig):
        p.grad.copy_(o)
def per_parameter():
    for p in params:
        torch.nn.utils.clip_grad_norm_([p], 1.0)
norm = median_ms(restore_norm, lambda: torch.nn.utils.clip_grad_norm_(params, 1.0))
pnorm = median_ms(restore_norm, per_parameter)

# one tensor of 1e7 floats, threshold 2.0
vorig = torch.randn(10_000_000)
vp = torch.nn.Parameter(torch.empty(10_000_000))
vp.grad = vorig.clone()
restore_value = lambda: vp.grad.copy_(vorig)
value = median_ms(restore_value, lambda: torch.nn.utils.clip_grad_value_([vp], 2.0))
zero = median_ms(restore_value, lambda: vp.grad.masked_fill_(vp.grad.abs() > 2.0, 0))

ours = {}
for r in json.load(open(sys.argv[1])):
    name = r["benchmark"].rsplit(".", 2)
    layout = r.get("params", {}).get("layout", "")
    ours[name[-2] + "." + name[-1] + "[" + layout + "]"] = (r["primaryMetric"]["score"], r["primaryMetric"]["scoreError"])

rows = [
    ("global norm, 1e7 floats in 100 arrays", "GlobalNormClipBenchmark.ours[100]", "clip_grad_norm_", norm, 0.8),
    ("parameter norm, 100 arrays of 1e5", "GlobalNormClipBenchmark.oursParameterNorm[100]", "loop of clip_grad_norm_", pnorm, 1.0),
    ("value clipping, 1e7 floats", "ElementwiseClipBenchmark.oursValue[1]", "clip_grad_value_", value, 1.0),
    ("zero-out, 1e7 floats", "ElementwiseClipBenchmark.oursZeroOut[1]", "masked_fill_", zero, 1.0),
]
print(f"torch {torch.__version__}, {threads} thread(s); ours: JMH, OMP_NUM_THREADS={threads}")
print(f"{'case':40s} {'ours ms':>16s} {'PyTorch ms (median [min, max])':>32s} {'':>24s} {'ours/PyTorch':>13s} {'target':>8s}")
for case, key, tname, (med, lo, hi), target in rows:
    s, e = ours[key]
    ratio = s / med
    verdict = "met" if ratio <= target else "missed"
    print(f"{case:40s} {s:8.3f} ± {e:6.3f} {med:9.3f} [{lo:.3f}, {hi:.3f}] {tname:>24s}"
          f" {ratio:8.2f}x  <= {target}x {verdict}")
PY
done
echo "load at end: $(uptime)"
