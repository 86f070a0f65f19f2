#!/usr/bin/env bash
# Held-out accuracy against epsilon for `classify` (synthetic control charts, 6 classes, 60 steps): DP-SGD at each
# epsilon of EPSILONS and the non-private baseline, for each seed of SEEDS; one CSV row per run and a markdown table
# of mean, sd, min and max accuracy per setting.
#
# Same data, network and number of updates in every run of a seed: PER_CLASS series per class (N = 6 PER_CLASS),
# expected batch BATCH, EPOCHS epochs of floor(N / BATCH) steps; the non-private baseline takes as many steps
# (--steps) of BATCH series drawn with replacement, with its own defaults (Adam 1e-2, clip global-norm:1.0,
# training-set standardisation); the private runs use classify --private's (Adam 2e-2, C = --max-grad-norm 1.0,
# each series standardised by itself, delta the largest power of ten <= 1/(10 N), SecureRandom noise).
# The --seed of a run sets the data and the initial weights; the private noise is not seeded (set REPRODUCIBLE=1
# for --reproducible-noise, which is NOT private).
#
# Usage (from anywhere):   dl4j-clipping-examples/scripts/privacy-accuracy.sh
# Settings by environment: PER_CLASS (2000), BATCH (256), EPOCHS (16), EPSILONS ("1 3 8"), SEEDS ("1 2 3"),
#   HIDDEN (32), OUT (out/privacy-accuracy), EXTRA (more classify options for every run), REPRODUCIBLE (0),
#   MVN (mvn), SKIP_BUILD (0: build the examples and their classpath first).
# Output: $OUT/results.csv, $OUT/summary.md, one log and one output folder per run under $OUT/runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PER_CLASS="${PER_CLASS:-2000}"
BATCH="${BATCH:-256}"
EPOCHS="${EPOCHS:-16}"
EPSILONS="${EPSILONS:-1 3 8}"
SEEDS="${SEEDS:-1 2 3}"
HIDDEN="${HIDDEN:-32}"
OUT="${OUT:-out/privacy-accuracy}"
EXTRA="${EXTRA:-}"
REPRODUCIBLE="${REPRODUCIBLE:-0}"
MVN="${MVN:-mvn}"
SKIP_BUILD="${SKIP_BUILD:-0}"

mkdir -p "$OUT/runs"
OUT="$(cd "$OUT" && pwd)"
CP_FILE="$OUT/classpath.txt"
if [ "$SKIP_BUILD" != 1 ] || [ ! -s "$CP_FILE" ]; then
  (cd "$ROOT" && $MVN -B -q -pl dl4j-clipping-examples -am package -DskipTests dependency:build-classpath \
      -Dmdep.outputFile="$CP_FILE")
fi
CP="$ROOT/dl4j-clipping-examples/target/classes:$(cat "$CP_FILE")"

N=$((6 * PER_CLASS))
STEPS=$((EPOCHS * (N / BATCH)))
COMMON=(classify --per-class "$PER_CLASS" --batch "$BATCH" --hidden "$HIDDEN" --no-progress)
NOISE=()
if [ "$REPRODUCIBLE" = 1 ]; then NOISE=(--reproducible-noise); fi

CSV="$OUT/results.csv"
echo "setting,seed,target_epsilon,epsilon_spent,delta,sigma,steps,accuracy_percent,seconds" > "$CSV"

run() {   # run SETTING SEED TARGET ARGS...
  local setting="$1" seed="$2" target="$3"
  shift 3
  local name="$setting-seed$seed" start end log
  log="$OUT/runs/$name.log"
  start=$(date +%s)
  # shellcheck disable=SC2086
  java -cp "$CP" org.dl4jclipping.examples.Main "${COMMON[@]}" --seed "$seed" --out "$OUT/runs/$name" "$@" \
      $EXTRA > "$log" 2>&1 || { echo "FAILED: $name (see $log)" >&2; return 1; }
  end=$(date +%s)
  local acc spent delta sigma steps
  acc=$(sed -n 's/^held-out accuracy: \([0-9.]*\)%.*/\1/p' "$log" | tail -1)
  spent=$(sed -n 's/^epsilon spent \([0-9.]*\) at delta \([^ ]*\).*/\1/p' "$log" | tail -1)
  delta=$(sed -n 's/^epsilon spent [0-9.]* at delta \([^ ]*\).*/\1/p' "$log" | tail -1)
  sigma=$(sed -n 's/^sigma \([0-9.]*\), q [0-9.]*, \([0-9]*\) steps.*/\1/p' "$log" | tail -1)
  steps=$(sed -n 's/^sigma [0-9.]*, q [0-9.]*, \([0-9]*\) steps.*/\1/p' "$log" | tail -1)
  [ -n "$steps" ] || steps="$STEPS"
  echo "$setting,$seed,$target,${spent:-},${delta:-},${sigma:-},$steps,$acc,$((end - start))" >> "$CSV"
  echo "$name: accuracy $acc%${spent:+, epsilon spent $spent at delta $delta} ($((end - start)) s)"
}

echo "N = $N training series, batch $BATCH, $EPOCHS epochs = $STEPS steps; seeds $SEEDS; epsilons $EPSILONS"
for seed in $SEEDS; do
  run non-private "$seed" inf --steps "$STEPS"
  for eps in $EPSILONS; do
    run "epsilon-$eps" "$seed" "$eps" --private --epsilon "$eps" --epochs "$EPOCHS" "${NOISE[@]}"
  done
done

{
  echo "Held-out accuracy of classify (N = $N, batch $BATCH, $STEPS steps, hidden $HIDDEN; seeds $SEEDS)"
  echo
  echo "| setting | target epsilon | epsilon spent (mean) | delta | sigma (mean) | runs | accuracy mean % | sd | min | max |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  awk -F, 'NR > 1 {
      k = $1; if (!(k in n)) order[++m] = k
      n[k]++; s[k] += $8; ss[k] += $8 * $8; eps[k] = $3; spent[k] += $4; delta[k] = $5; sigma[k] += $6
      if (!(k in lo) || $8 < lo[k]) lo[k] = $8
      if (!(k in hi) || $8 > hi[k]) hi[k] = $8
    } END {
      for (i = 1; i <= m; i++) {
        k = order[i]; mean = s[k] / n[k]; var = n[k] > 1 ? (ss[k] - n[k] * mean * mean) / (n[k] - 1) : 0
        priv = delta[k] != ""
        printf "| %s | %s | %s | %s | %s | %d | %.1f | %.1f | %.1f | %.1f |\n", k, priv ? eps[k] : "-",
            priv ? sprintf("%.3f", spent[k] / n[k]) : "-", priv ? delta[k] : "-",
            priv ? sprintf("%.4f", sigma[k] / n[k]) : "-", n[k], mean, sqrt(var > 0 ? var : 0), lo[k], hi[k]
      }
    }' "$CSV"
} > "$OUT/summary.md"
cat "$OUT/summary.md"
echo "rows: $CSV"
