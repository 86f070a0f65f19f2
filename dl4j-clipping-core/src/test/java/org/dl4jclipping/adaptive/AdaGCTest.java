package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.dl4jclipping.engine.NonFiniteGradientException;
import org.dl4jclipping.strategy.AdaGC;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * AdaGC at the engine level against {@link AdaptiveReference.AdaGCRef} (written from adaptive.md): every step's
 * clipped gradients to 1e-12 relative in double and 1e-6 in float (plus the smallest normal number), over
 * generated tensors and step sequences, with the state in the data type of the gradient as a network keeps it.
 */
class AdaGCTest {

    /** Gradients of one case: tensor sizes, magnitudes that change step to step, an occasional zero tensor. */
    private static double[][] gradients(Random r, int[] sizes, boolean zeroTensor) {
        double[][] g = new double[sizes.length][];
        double level = Math.pow(10, -2 + 4 * r.nextDouble());
        for (int i = 0; i < sizes.length; i++) {
            g[i] = new double[sizes[i]];
            boolean zero = zeroTensor && i == 0;
            for (int k = 0; k < sizes[i]; k++) {
                g[i][k] = zero ? 0.0 : level * r.nextGaussian() * (1 + i);
            }
        }
        return g;
    }

    /**
     * 1,000 generated cases: 1 to 4 tensors of 1 to 12 elements, 1 to 14 steps (warm-up 2 to 6, so both phases and
     * the boundary are reached), float or double, random lambda_abs, lambda_rel, beta; tensor 0 all zero in some
     * cases and steps.
     */
    @Property(tries = 1000, seed = "4201")
    void engine_matchesReference(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(4);
        int[] sizes = new int[n];
        for (int i = 0; i < n; i++) {
            sizes[i] = 1 + r.nextInt(12);
        }
        DataType type = r.nextBoolean() ? DataType.FLOAT : DataType.DOUBLE;
        AdaGC s = AdaGC.builder().lambdaAbs(Math.pow(10, -1 + 2 * r.nextDouble()))
                .lambdaRel(0.5 + r.nextDouble()).beta(r.nextDouble() < 0.1 ? 0.0 : 0.5 + 0.49 * r.nextDouble())
                .warmupSteps(2 + r.nextInt(5)).build();
        INDArray[] views = new INDArray[n];
        GradientLayout.Builder b = GradientLayout.builder();
        for (int i = 0; i < n; i++) {
            views[i] = Nd4j.zeros(type, sizes[i]);
            b.add("l" + i, "W", views[i], null);
        }
        Clipper clipper = new Clipper(s, b.build());
        clipper.rules().get(0).attachState(Nd4j.zeros(type, s.stateSize()));
        for (int i = 0; i < n; i++) {
            clipper.rules().get(0).attachParameterState(i, Nd4j.zeros(type, s.parameterStateSize()));
        }
        AdaptiveReference.AdaGCRef ref = new AdaptiveReference.AdaGCRef(s.getLambdaAbs(), s.getLambdaRel(),
                s.getBeta(), s.getWarmupSteps(), s.getEps());
        boolean zeroTensor = r.nextInt(4) == 0;
        int steps = 1 + r.nextInt(14);
        double tol = type == DataType.FLOAT ? 1e-6 : 1e-12;
        for (int t = 0; t < steps; t++) {
            double[][] g = gradients(r, sizes, zeroTensor && r.nextBoolean());
            for (int i = 0; i < n; i++) {
                views[i].assign(Nd4j.createFromArray(g[i]).castTo(type));
                g[i] = views[i].castTo(DataType.DOUBLE).toDoubleVector(); // the reference sees the stored values
            }
            clipper.clip(t);
            double[][] expected = ref.step(g);
            for (int i = 0; i < n; i++) {
                double[] actual = views[i].castTo(DataType.DOUBLE).toDoubleVector();
                for (int k = 0; k < actual.length; k++) {
                    assertThat(Math.abs(actual[k] - expected[i][k]))
                            .as("seed %d %s step %d tensor %d element %d: %s vs %s", seed, type, t + 1, i, k,
                                    actual[k], expected[i][k])
                            .isLessThanOrEqualTo(tol * Math.abs(expected[i][k]) + Double.MIN_NORMAL);
                }
            }
        }
    }

    /**
     * By hand, two tensors, warm-up 3, lambda_abs 1, lambda_rel 1.05, beta 0.5:
     * step 1: a = [3, 4] (norm 5), b = [0, 0]; G = 5, h = 1 / (5 + 1e-8): a -> [0.6, 0.8] (to 1e-9), gamma = (1, 0).
     * step 2: a = [0.3, 0.4], b = [1, 0]; G = sqrt(1.25) > 1: h = 1 / (1.118... + 1e-8); gamma_a = min(1, 0.5 h)
     *         = 0.4472..., gamma_b = min(0, ...) = 0.
     * step 3 (after warm-up): a = [6, 8] (norm 10): h_a = 1.05 * 0.4472 / 10, a -> norm 0.4696;
     *         b = [0, 0]: norm 0 keeps h = 1 (no 0/0) and gamma_b stays 0.
     */
    @Test
    void byHand_warmupThenPerTensorThresholds_andZeroTensorKeepsScaleOne() {
        INDArray a = Nd4j.createFromArray(3.0, 4.0);
        INDArray b = Nd4j.createFromArray(0.0, 0.0);
        GradientLayout layout = GradientLayout.builder().add("a", "W", a, null).add("b", "W", b, null).build();
        Clipper c = new Clipper(AdaGC.builder().warmupSteps(3).beta(0.5).build(), layout);
        ClipReport r1 = c.clip(0);
        assertThat(r1.normAfter(0)).isCloseTo(5 / (5 + 1e-8), org.assertj.core.api.Assertions.within(1e-12));
        assertThat(r1.threshold(0)).isEqualTo(1.0);
        a.assign(Nd4j.createFromArray(0.3, 0.4));
        b.assign(Nd4j.createFromArray(1.0, 0.0));
        c.clip(1);
        double h2 = 1 / (Math.sqrt(1.25) + 1e-8);
        double gammaA = Math.min(5 / (5 + 1e-8), 0.5 * h2);
        a.assign(Nd4j.createFromArray(6.0, 8.0));
        b.assign(Nd4j.createFromArray(0.0, 0.0));
        ClipReport r3 = c.clip(2);
        assertThat(r3.threshold(0)).isCloseTo(1.05 * gammaA, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(r3.normAfter(0)).isCloseTo(1.05 * gammaA, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(r3.scale(1)).as("a zero tensor keeps scale 1").isEqualTo(1.0);
        assertThat(b.toDoubleVector()).containsExactly(0.0, 0.0);
    }

    /**
     * A non-finite norm never enters gamma: with {@code chain(skipNonFinite, adaGC)} a NaN step is skipped before
     * AdaGC runs (state unchanged, the next steps equal a run without it); without a policy it fails before any
     * tensor or gamma moves.
     */
    @Test
    void nonFiniteNorm_neverEntersGamma() {
        double[][] steps = {{3, 4}, {1, 2}, {Double.NaN, 1}, {5, 1}, {2, 2}};
        INDArray g = Nd4j.zeros(DataType.DOUBLE, 2);
        Clipper withNaN = new Clipper(Clip.chain(Clip.skipNonFinite(), AdaGC.builder().warmupSteps(2).build()),
                GradientLayout.builder().add("l", "W", g, null).build());
        INDArray h = Nd4j.zeros(DataType.DOUBLE, 2);
        Clipper clean = new Clipper(AdaGC.builder().warmupSteps(2).build(),
                GradientLayout.builder().add("l", "W", h, null).build());
        for (int t = 0; t < steps.length; t++) {
            g.assign(Nd4j.createFromArray(steps[t]));
            ClipReport r = withNaN.clip(t);
            if (t == 2) {
                assertThat(r.skipped()).isTrue();
                continue;
            }
            h.assign(Nd4j.createFromArray(steps[t]));
            clean.clip(t);
            assertThat(g.toDoubleVector()).as("step %d", t).containsExactly(h.toDoubleVector());
        }
        INDArray bad = Nd4j.createFromArray(Double.POSITIVE_INFINITY, 1.0);
        Clipper failing = new Clipper(AdaGC.builder().warmupSteps(2).build(),
                GradientLayout.builder().add("l", "W", bad, null).build());
        assertThatThrownBy(() -> failing.clip(0)).isInstanceOf(NonFiniteGradientException.class);
    }
}
