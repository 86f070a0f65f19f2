#!/usr/bin/env bash
# Our clipping against PyTorch's, one thread each, same sizes, same machine, one after the other:
#   global norm : GlobalNormClipBenchmark.ours (layout=100, threshold=clipping)  vs  torch clip_grad_norm_
#                 on 1e7 floats in 100 tensors of 1e5, max_norm 1.0 (N(0,1) values: every call clips)
#   value       : ElementwiseClipBenchmark.oursValue (1e7 floats, c = 2.0)        vs  torch clip_grad_value_
#                 on one tensor of 1e7 floats, clip_value 2.0
# Both sides restore the original values before every timed call, outside the timing.
# ND4J reads OMP_NUM_THREADS when it starts; OpenBLAS reads OPENBLAS_NUM_THREADS; PyTorch gets
# torch.set_num_threads(1). PyTorch figures are medians of many runs; ours are JMH averages with their error.
#
# Usage: dl4j-clipping-benchmarks/compare-pytorch.sh [extra JMH options]   (after mvn package)
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
echo "load before: $(uptime)"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 java -jar "$jar" \
  'GlobalNormClipBenchmark.ours$' 'ElementwiseClipBenchmark.oursValue$' \
  -p layout=100 -p threshold=clipping -rf json -rff "$out/jmh.json" "$@" > "$out/jmh.log" 2>&1 \
  || { tail -40 "$out/jmh.log"; exit 1; }
echo "load after JMH: $(uptime)"

"$py" - "$out/jmh.json" <<'PY'
import json, statistics, sys, time
import torch

torch.set_num_threads(1)
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

# global norm: 100 tensors of 1e5 floats, N(0, 1), max_norm 1.0
orig = [torch.randn(100_000) for _ in range(100)]
params = [torch.nn.Parameter(torch.empty(100_000)) for _ in range(100)]
for p, o in zip(params, orig):
    p.grad = o.clone()
def restore_norm():
    for p, o in zip(params, orig):
        p.grad.copy_(o)
norm = median_ms(restore_norm, lambda: torch.nn.utils.clip_grad_norm_(params, 1.0))

# value: one tensor of 1e7 floats, clip_value 2.0
vorig = torch.randn(10_000_000)
vp = torch.nn.Parameter(torch.empty(10_000_000))
vp.grad = vorig.clone()
value = median_ms(lambda: vp.grad.copy_(vorig), lambda: torch.nn.utils.clip_grad_value_([vp], 2.0))

ours = {}
for r in json.load(open(sys.argv[1])):
    name = r["benchmark"].rsplit(".", 2)
    ours[name[-2] + "." + name[-1]] = (r["primaryMetric"]["score"], r["primaryMetric"]["scoreError"])

rows = [
    ("global norm, 1e7 floats in 100 arrays", "GlobalNormClipBenchmark.ours", "clip_grad_norm_", norm, 0.8),
    ("value clipping, 1e7 floats", "ElementwiseClipBenchmark.oursValue", "clip_grad_value_", value, 1.5),
]
print(f"torch {torch.__version__}, 1 thread; ours: JMH, OMP_NUM_THREADS=1")
print(f"{'case':40s} {'ours ms':>16s} {'PyTorch ms (median [min, max])':>32s} {'ours/PyTorch':>13s} {'target':>8s}")
for case, key, tname, (med, lo, hi), target in rows:
    s, e = ours[key]
    ratio = s / med
    verdict = "met" if ratio <= target else "missed"
    print(f"{case:40s} {s:8.3f} ± {e:6.3f} {med:9.3f} [{lo:.3f}, {hi:.3f}] {tname:>16s}"
          f" {ratio:8.2f}x  <= {target}x {verdict}")
PY
echo "load at end: $(uptime)"
