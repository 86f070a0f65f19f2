package org.dl4jclipping.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The engine applying each strategy, with the expected numbers worked out by hand, the non-finite rules of
 * semantics.md, and the norm-clipping invariants (norm bounded, direction kept, idempotent).
 */
class ClipperTest {

    private static final double EPS = 1e-6;
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double NAN = Double.NaN;

    /** Gradients [3, 4] (norm 5) and [0.3, 0.4] (norm 0.5), max 1: only the first is scaled, by 1/(5 + 1e-6). */
    @Test
    void parameterNorm_clipsOnlyTheParameterOverThreshold() {
        INDArray w = vec(3, 4);
        INDArray b = vec(0.3, 0.4);
        ClipReport r = clip(Clip.parameterNorm(1.0), layout("l", w, b));
        double s = 1.0 / (5.0 + EPS);
        assertThat(w.toDoubleVector()).containsExactly(new double[] {3 * s, 4 * s}, within(1e-15));
        assertThat(b.toDoubleVector()).containsExactly(0.3, 0.4); // exactly: never written
        assertThat(r.scale(0)).isEqualTo(s, within(1e-16));
        assertThat(r.scale(1)).isEqualTo(1.0);
    }

    /** Norm 0.5 under max 1 (all scopes): s = min(1, 1/0.500001) = 1, so nothing is written, bit for bit. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void normBelowThreshold_scaleOne_writesNothing(DataType dt) {
        INDArray g = Nd4j.createFromArray(0.3, -0.4, 1e-30, -0.0).castTo(dt);
        double[] before = g.toDoubleVector();
        for (ClipStrategy s : new ClipStrategy[] {Clip.globalNorm(1.0), Clip.layerNorm(1.0), Clip.parameterNorm(1.0),
                Clip.norm(1.0, 1.0, org.dl4jclipping.engine.Scope.GLOBAL)}) {
            ClipReport r = clip(s, layout("l", g));
            assertThat(r.changed()).as("%s", s).isFalse();
            assertThat(r.minScale()).isEqualTo(1.0);
            assertThat(g.toDoubleVector()).as("%s", s).containsExactly(before); // -0.0 stays -0.0
        }
    }

    /** No parameters at all: every norm is 0, nothing is clipped, nothing fails. */
    @Test
    void emptyLayout_normZeroNothingClipped() {
        GradientLayout empty = GradientLayout.builder().build();
        ClipReport r = clip(Clip.chain(Clip.skipNonFinite(), Clip.value(1.0), Clip.layerNorm(1.0),
                Clip.globalNorm(1.0)), empty);
        assertThat(r.totalNormBefore()).isZero();
        assertThat(r.totalNormAfter()).isZero();
        assertThat(r.changed()).isFalse();
        assertThat(r.skipped()).isFalse();
    }

    /** An empty array beside a normal one: norm 0, and the other parameter clipped as usual (5 -> ~1). */
    @Test
    void emptyArray_hasNormZero() {
        INDArray e = Nd4j.create(DataType.FLOAT, 0);
        INDArray w = vec(3, 4).castTo(DataType.FLOAT);
        ClipReport r = clip(Clip.globalNorm(1.0), layout("l", e, w));
        assertThat(r.normBefore(0)).isZero();
        assertThat(r.totalNormBefore()).isEqualTo(5.0, within(1e-6));
        assertThat(r.totalNormAfter()).isEqualTo(1.0, within(1e-6));
    }

    /**
     * [-Inf, -2, -0.5, 0, 0.5, 2, +Inf, NaN], value(1) then ZERO: -Inf, -2 go to -1; 2, +Inf go to 1 (4 clipped,
     * NaN not counted: NaN is the policy's); then ZERO turns NaN into 0 (1 zeroed).
     */
    @Test
    void value_countsClippedExactly_infinitiesToBounds_nanLeftToPolicy() {
        INDArray g = vec(-INF, -2, -0.5, 0, 0.5, 2, INF, NAN);
        ClipReport r = clip(Clip.chain(Clip.value(1.0), Clip.zeroNonFinite()), layout("l", g));
        assertThat(g.toDoubleVector()).containsExactly(-1, -1, -0.5, 0, 0.5, 1, 1, 0);
        assertThat(r.clipped(0)).isEqualTo(4);
        assertThat(r.zeroed(0)).isEqualTo(1);
        assertThat(r.nonFinite(0)).isEqualTo(1); // only the NaN was still non-finite when the policy ran
    }

    /** Same input, value(1) then SKIP_STEP: 4 clipped; the NaN left skips the step and is counted (1). */
    @Test
    void value_thenSkip_nanSkipsTheStepAndIsNotCountedAsClipped() {
        INDArray g = vec(-INF, -2, 2, INF, NAN);
        ClipReport r = clip(Clip.chain(Clip.value(1.0), Clip.skipNonFinite()), layout("l", g));
        assertThat(r.clipped(0)).isEqualTo(4);
        assertThat(r.skipped()).isTrue();
        assertThat(r.nonFinite(0)).isEqualTo(1);
    }

    /** Float data, asymmetric bounds [-0.25, 0.1]: 0.1f is 0.100000001 > 0.1, so it counts as clipped too. */
    @Test
    void value_floatData_comparesAgainstTheRealBound() {
        INDArray g = Nd4j.createFromArray(0.1f, 0.05f, -0.3f, -0.25f, 0.2f);
        ClipReport r = clip(Clip.value(-0.25, 0.1), layout("l", g));
        // 0.1f (> 0.1 in real arithmetic), -0.3f and 0.2f are out of bounds: 3; -0.25f is exactly the bound: 0
        assertThat(r.clipped(0)).isEqualTo(3);
        assertThat(g.toFloatVector()).containsExactly(0.1f, 0.05f, -0.25f, -0.25f, 0.1f);
    }

    /** zero-out(1): +Inf, -Inf, 5, -5 have |x| > 1 and become 0 (4 zeroed); 0.5 and 1 (not > 1) stay. */
    @Test
    void zeroOut_turnsInfinitiesToZeroAndCountsThem() {
        INDArray g = vec(INF, -INF, 5, -5, 0.5, 1);
        ClipReport r = clip(Clip.chain(Clip.zeroOut(1.0), Clip.skipNonFinite()), layout("l", g));
        assertThat(g.toDoubleVector()).containsExactly(0, 0, 0, 0, 0.5, 1);
        assertThat(r.zeroed(0)).isEqualTo(4);
        assertThat(r.skipped()).isFalse(); // nothing non-finite was left for the policy
        assertThat(r.normAfter(0)).isEqualTo(Math.sqrt(1.25), within(1e-15));
    }

    /** A value clip alone (no policy) on +Inf: the step fails before anything is written. */
    @Test
    void nonFinite_noPolicy_failsNamingLayerParameterIterationAndCount() {
        INDArray ok = vec(1, 2);
        INDArray bad = vec(NAN, 1, INF, NAN); // 3 non-finite elements of 4
        GradientLayout layout = GradientLayout.builder().add("dense_1", "W", ok, null)
                .add("dense_1", "RW", bad, null).build();
        assertThatThrownBy(() -> new Clipper(Clip.value(1.0), layout).clip(42))
                .isInstanceOf(NonFiniteGradientException.class)
                .hasMessageContaining("dense_1").hasMessageContaining("'RW'").hasMessageContaining("iteration 42")
                .hasMessageContaining("3 NaN or infinite element(s) of 4")
                .hasMessageContaining("Clip.skipNonFinite()").hasMessageContaining("Clip.zeroNonFinite()")
                .satisfies(e -> {
                    NonFiniteGradientException n = (NonFiniteGradientException) e;
                    assertThat(n.getLayer()).isEqualTo("dense_1");
                    assertThat(n.getParam()).isEqualTo("RW");
                    assertThat(n.getIteration()).isEqualTo(42);
                    assertThat(n.getCount()).isEqualTo(3);
                });
        assertThat(ok.toDoubleVector()).containsExactly(1, 2);
        assertThat(bad.getDouble(1)).isEqualTo(1.0); // value(1) did not run
    }

    /** The FAIL policy behaves exactly as no policy: same exception, same details. */
    @Test
    void nonFinite_failPolicy_failsLikeNoPolicy() {
        INDArray bad = vec(1, -INF);
        GradientLayout layout = layout("conv", bad);
        assertThatThrownBy(() -> new Clipper(Clip.chain(Clip.failOnNonFinite(), Clip.globalNorm(1.0)), layout)
                .clip(9)).isInstanceOf(NonFiniteGradientException.class)
                .hasMessageContaining("'conv'").hasMessageContaining("iteration 9")
                .hasMessageContaining("1 NaN or infinite element(s) of 2");
    }

    /**
     * Parameters that no rule covers (issue 13, defect 1): a non-finite value among them follows the network's
     * policy. Layout: "clipped/W" = [3, 4] in a rule, "plain/W" = [NaN, 1, +Inf] in none.
     * No policy anywhere: fails naming the uncovered parameter. SKIP_STEP in the rule: the step is skipped with both
     * parameters untouched and the uncovered count (2) reported. ZERO: the uncovered NaN and Inf become 0 (counted as
     * zeroed), the rule clips its own parameter (norm 5 to 1).
     */
    @Test
    void uncoveredParameters_nonFinite_followTheNetworksPolicy() {
        INDArray clipped = vec(3, 4);
        INDArray plain = vec(NAN, 1, INF);
        GradientLayout layout = GradientLayout.builder().add("clipped", "W", clipped, null)
                .add("plain", "W", plain, null).build();
        java.util.function.Function<org.dl4jclipping.engine.ClipStrategy, Clipper> only0 =
                s -> new Clipper(java.util.List.of(new ClipRule(s, new int[] {0}, layout)), layout);

        assertThatThrownBy(() -> only0.apply(Clip.globalNorm(1.0)).clip(3))
                .isInstanceOf(NonFiniteGradientException.class).hasMessageContaining("layer 'plain'")
                .hasMessageContaining("2 NaN or infinite element(s) of 3");

        ClipReport skipped = only0.apply(Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0))).clip(3);
        assertThat(skipped.skipped()).isTrue();
        assertThat(skipped.nonFinite(1)).isEqualTo(2);
        assertThat(clipped.toDoubleVector()).containsExactly(3, 4);

        ClipReport zeroed = only0.apply(Clip.chain(Clip.zeroNonFinite(), Clip.globalNorm(1.0))).clip(3);
        assertThat(zeroed.skipped()).isFalse();
        assertThat(plain.toDoubleVector()).containsExactly(0, 1, 0);
        assertThat(zeroed.zeroed(1)).isEqualTo(2);
        assertThat(zeroed.normAfter(0)).isCloseTo(5 / (5 + 1e-6), within(1e-12));
    }

    /**
     * The skip limit (issue 13, defect 2) at the engine level: skipNonFinite(2) skips two non-finite steps in a
     * row, fails the third naming every parameter where NaN appeared (l0/W in the first, l1/W in the second), and
     * resets after a finite step.
     */
    @Test
    void skipLimit_failsTheStepAfterTheLimit_andResetsOnAFiniteStep() {
        INDArray a = vec(1, 2);
        INDArray b = vec(3, 4);
        GradientLayout layout = GradientLayout.builder().add("l0", "W", a, null).add("l1", "W", b, null).build();
        Clipper clipper = new Clipper(Clip.chain(Clip.skipNonFinite(2), Clip.globalNorm(100)), layout);
        a.putScalar(0, NAN);
        assertThat(clipper.clip(0).skipped()).isTrue();
        a.putScalar(0, 1);
        b.putScalar(1, INF);
        assertThat(clipper.clip(1).skipped()).isTrue();
        assertThat(clipper.consecutiveSkips()).isEqualTo(2);
        assertThatThrownBy(() -> clipper.clip(2)).isInstanceOf(SkipLimitExceededException.class)
                .hasMessageContaining("iteration 2").hasMessageContaining("2 consecutive skipped steps")
                .hasMessageContaining("[l0/W, l1/W]");
        b.putScalar(1, 4);
        assertThat(clipper.clip(3).skipped()).isFalse();
        assertThat(clipper.consecutiveSkips()).isZero();
        b.putScalar(1, NAN);
        assertThat(clipper.clip(4).skipped()).as("allowed again after a finite step").isTrue();
    }

    /** SKIP_STEP: the step is skipped, non-finite elements counted per parameter (1 and 2), nothing written. */
    @Test
    void nonFinite_skipStep_skipsCountsAndWritesNothing() {
        INDArray a = vec(30, NAN);
        INDArray b = vec(INF, -INF, 40);
        GradientLayout layout = GradientLayout.builder().add("l0", "W", a, null).add("l1", "W", b, null).build();
        ClipReport r = clip(Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0)), layout);
        assertThat(r.skipped()).isTrue();
        assertThat(r.nonFinite(0)).isEqualTo(1);
        assertThat(r.nonFinite(1)).isEqualTo(2);
        assertThat(r.totalNonFinite()).isEqualTo(3);
        assertThat(r.changed()).isFalse();
        assertThat(a.toDoubleVector()).containsExactly(30, NAN); // the norm clip after the skip never ran
        assertThat(b.toDoubleVector()).containsExactly(INF, -INF, 40);
    }

    /**
     * ZERO then global norm: [NaN, 3, +Inf, 4] becomes [0, 3, 0, 4] (2 zeroed), norm 5 > 1, then scaled by
     * 1/(5 + 1e-6): [0, 0.6, 0, 0.8] * 5/5.000001.
     */
    @Test
    void nonFinite_zero_replacesAndCountsThenChainGoesOn() {
        INDArray g = vec(NAN, 3, INF, 4);
        ClipReport r = clip(Clip.chain(Clip.zeroNonFinite(), Clip.globalNorm(1.0)), layout("l", g));
        double s = 1.0 / (5.0 + EPS);
        assertThat(g.toDoubleVector()).containsExactly(new double[] {0, 3 * s, 0, 4 * s}, within(1e-15));
        assertThat(r.zeroed(0)).isEqualTo(2);
        assertThat(r.nonFinite(0)).isEqualTo(2);
        assertThat(r.skipped()).isFalse();
        assertThat(r.totalNormBefore()).isNaN(); // "before" is what the chain received
        assertThat(r.totalNormAfter()).isEqualTo(5 * s, within(1e-15));
    }

    /**
     * Hand-worked idempotence: [3, 4] clipped to 1 twice. Once: * 1/5.000001, norm n1 = 0.9999998. Twice: another
     * * 1/(0.9999998 + 1e-6) = 1/1.0000008, a change of 8e-7 relative: below 1e-6, yet not exactly 1.
     */
    @Test
    void globalNorm_clippedTwice_equalsOnceTo1e6() {
        INDArray g = vec(3, 4);
        Clipper clipper = new Clipper(Clip.globalNorm(1.0), layout("l", g));
        clipper.clip(0);
        double[] once = g.toDoubleVector();
        ClipReport second = clipper.clip(1);
        double n1 = 5.0 / (5.0 + EPS); // 0.9999998
        assertThat(second.minScale()).isEqualTo(1.0 / (n1 + EPS), within(1e-15)).isLessThan(1.0);
        assertThat(second.minScale()).isEqualTo(1.0 / 1.0000008, within(1e-12)); // the rounded figure above
        assertThat(g.toDoubleVector()).containsExactly(once, within(1e-6 * 0.8));
    }

    /** semantics.md: put the policy first. A norm clip before it meets a NaN norm and fails the step. */
    @Test
    void nonFinite_normBeforePolicy_fails() {
        INDArray g = vec(NAN, 3);
        GradientLayout layout = layout("l", g);
        assertThatThrownBy(() -> new Clipper(Clip.chain(Clip.globalNorm(1.0), Clip.skipNonFinite()), layout).clip(3))
                .isInstanceOf(NonFiniteGradientException.class).hasMessageContaining("iteration 3");
    }

    /**
     * Invariants over random gradients of 3 layers, in both types: ||g'|| <= max (1 + 1e-6), cosine similarity 1
     * to 1e-6, idempotent (to 1e-6 for max >= 1, see below).
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void globalNorm_invariants_boundedDirectionKeptIdempotent(DataType dt) {
        Random rnd = new Random(20250101);
        for (int trial = 0; trial < 20; trial++) {
            double maxNorm = Math.pow(10, rnd.nextInt(7) - 3); // 1e-3 .. 1e3
            INDArray[] g = new INDArray[3];
            GradientLayout.Builder b = GradientLayout.builder();
            for (int j = 0; j < 3; j++) {
                double[] v = new double[1 + rnd.nextInt(200)];
                double scale = Math.pow(10, rnd.nextInt(9) - 4);
                for (int k = 0; k < v.length; k++) {
                    v[k] = rnd.nextGaussian() * scale;
                }
                g[j] = Nd4j.createFromArray(v).castTo(dt);
                b.add("L" + j, "W", g[j], null);
            }
            GradientLayout layout = b.build();
            double[] before = flat(g);
            Clipper clipper = new Clipper(Clip.globalNorm(maxNorm), layout);
            clipper.clip(0);
            double[] once = flat(g);
            clipper.clip(1);
            double[] twice = flat(g);

            assertThat(norm(once)).as("trial %d", trial).isLessThanOrEqualTo(maxNorm * (1 + 1e-6));
            assertThat(dot(before, once) / (norm(before) * norm(once))).as("cosine, trial %d", trial)
                    .isCloseTo(1.0, within(1e-6));
            // Idempotence to 1e-6 holds for maxNorm >= 1 only: after one clip n1 = c n0 / (n0 + eps), and a second
            // clip scales by c / (n1 + eps) ~ 1 - (eps / c)(1 - c / n0) when n0 > c (PyTorch's formula does the
            // same). So the second clip moves elements by less than eps / c relative: 1e-6 at c = 1, 1e-3 at
            // c = 1e-3; plus 1e-6 for float rounding.
            double tol = EPS / maxNorm + 1e-6;
            for (int k = 0; k < once.length; k++) {
                assertThat(twice[k]).as("idempotence, trial %d element %d", trial, k)
                        .isCloseTo(once[k], within(tol * Math.abs(once[k]) + 1e-30));
            }
        }
    }

    // ---- helpers ----

    private static ClipReport clip(ClipStrategy s, GradientLayout layout) {
        return new Clipper(s, layout).clip(0);
    }

    private static GradientLayout layout(String layer, INDArray... grads) {
        GradientLayout.Builder b = GradientLayout.builder();
        for (int i = 0; i < grads.length; i++) {
            b.add(layer, "p" + i, grads[i], null);
        }
        return b.build();
    }

    private static INDArray vec(double... v) {
        return ClipReportTest.vec(v);
    }

    private static double[] flat(INDArray[] g) {
        return java.util.Arrays.stream(g).flatMapToDouble(a -> java.util.Arrays.stream(a.toDoubleVector()))
                .toArray();
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }
}
