#!/usr/bin/env bash
# The exactness and safety tests of dl4j-clipping-core on ND4J's CUDA backend, in one command, on a machine with an
# NVIDIA GPU:
#   dl4j-clipping-benchmarks/gpu-check.sh
# Builds with -Pcuda (nd4j-cuda-11.6 in place of nd4j-native) and -Pcuda-redist (JavaCPP's CUDA 11.6 runtime
# libraries, so that no CUDA toolkit has to be installed; a newer driver runs them), then runs the network-level
# exactness matrix (float and double), the partial-rule and skip tests, the non-finite policies, the engine and
# kernel tests, and checks in the log that ND4J really ran on the CUDA backend.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU visible (nvidia-smi -L failed)" >&2
  exit 2
fi
nvidia-smi -L
log="dl4j-clipping-core/target/gpu-check.log"
mkdir -p dl4j-clipping-core/target
tests='IntegrationExactnessTest,PartialRulesSafetyTest,NonFiniteOnNetworkTest,ListenerLifecycleTest,AgcUnitsTest,FloatStateTest,ClipperTest,HostMemoryTest,StrategyProperties,PersistenceTest,AgcTest,LayerClippingTest'
set +e
mvn -B -Pcuda,cuda-redist -pl dl4j-clipping-core verify -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false \
  2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if ! grep -q 'Backend used: \[CUDA\]' "$log"; then
  echo "gpu-check: ND4J did not report the CUDA backend (see $log)" >&2
  exit 3
fi
grep -E 'Tests run:.*Fail' "$log" | tail -1
exit "$status"
