#!/usr/bin/env bash
# Performance regression check (issue 14): runs the clipping kernels against their floors in one JMH run and fails
# when one of them got more than 20% slower relative to its floor than in the committed figures (baseline.json).
#
# Ratios, not milliseconds: each kernel is divided by the floor measured in the same run (the element-wise floor for
# value and zero-out, the nrm2 floor for the global norm, a global norm for AGC), so the check means the same on
# another machine. The absolute figures are printed beside them.
#
# Usage (after mvn -B package -DskipTests; on a quiet machine: nothing else running):
#   dl4j-clipping-benchmarks/check.sh [JMH options]            compare with baseline.json; exit 1 on a regression
#   dl4j-clipping-benchmarks/check.sh --update [JMH options]   run, then write the ratios as the new baseline.json
# The run also measures DL4J's own clipping (dl4jClipValue, dl4jClipL2PerLayer) for docs/benchmarks.md; those are
# printed, not checked. The JMH JSON is kept as target/check.json.
# Not part of mvn verify: a timing on a shared CI machine measures the machine. Needs python3 (standard library).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/target/benchmarks.jar"
baseline="$here/baseline.json"
mode=""
if [ "${1:-}" = "--update" ]; then mode="--update"; shift; fi
[ -f "$jar" ] || { echo "check: $jar missing: run mvn -B package -DskipTests first" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "load before: $(uptime)"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 java -jar "$jar" \
  'ElementwiseClipBenchmark.(oursValue|oursZeroOut|elementwiseFloor|dl4jClipValue)$' \
  'GlobalNormClipBenchmark.(ours|nrm2Floor|twoPassFloor|dl4jClipL2PerLayer)$' \
  'AdaptiveClipBenchmark.(agc|globalNorm)$' \
  -p threshold=clipping -rf json -rff "$here/target/check.json" "$@" > "$out/jmh.log" 2>&1 \
  || { tail -40 "$out/jmh.log"; exit 1; }
echo "load after:  $(uptime)"

python3 - "$here/target/check.json" "$baseline" "$mode" <<'EOF'
import json, sys

results, baseline_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
score = {}
for r in json.load(open(results)):
    name = r["benchmark"].rsplit(".", 2)
    key = name[-2] + "." + name[-1]
    params = r.get("params", {})
    if "layout" in params:
        key += "[" + params["layout"] + "]"
    score[key] = r["primaryMetric"]["score"]

# kernel -> floor of the same layout
pairs = {}
for k in score:
    cls_method, _, layout = k.partition("[")
    cls, method = cls_method.split(".")
    suffix = "[" + layout if layout else ""
    floor = {"oursValue": "elementwiseFloor", "oursZeroOut": "elementwiseFloor", "ours": "nrm2Floor",
             "twoPassFloor": "nrm2Floor", "agc": "globalNorm"}.get(method)
    if floor:
        pairs[k] = cls + "." + floor + suffix

ratios = {k: score[k] / score[f] for k, f in pairs.items() if f in score}
for k in sorted(score):
    err = next(r["primaryMetric"]["scoreError"] for r in json.load(open(results))
               if r["benchmark"].endswith(k.split("[")[0]) and ("[" not in k or r.get("params", {}).get("layout") == k.split("[")[1][:-1]))
    print(f"  {k:45s} {score[k]:9.3f} ± {err:.3f} ms")
if mode == "--update":
    json.dump({k: round(v, 3) for k, v in sorted(ratios.items())}, open(baseline_path, "w"), indent=2)
    open(baseline_path, "a").write("\n")
    for k, v in sorted(ratios.items()):
        print(f"{k:45s} {score[k]:9.3f} ms  {v:6.2f}x its floor")
    print("baseline written:", baseline_path)
    sys.exit(0)

base = json.load(open(baseline_path))
failed = []
for k, v in sorted(ratios.items()):
    b = base.get(k)
    verdict = "new" if b is None else ("REGRESSED" if v > 1.2 * b else "ok")
    print(f"{k:45s} {score[k]:9.3f} ms  {v:6.2f}x its floor  (baseline {b if b is not None else '-'}x)  {verdict}")
    if verdict == "REGRESSED":
        failed.append(k)
if failed:
    print("regressed by more than 20% against baseline.json:", ", ".join(failed))
    sys.exit(1)
print("no regression beyond 20%")
EOF
