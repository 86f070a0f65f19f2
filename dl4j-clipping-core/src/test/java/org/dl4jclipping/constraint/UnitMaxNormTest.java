package org.dl4jclipping.constraint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.constraint.MaxNormConstraint;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link UnitMaxNorm} against {@link Reference#maxNorm} (plain double loops) and against DL4J's
 * {@code MaxNormConstraint}. Tolerances: 1e-12 relative for double data (a norm and one multiplication, each a
 * few ulps, BLAS vs loop summation order); a clipped unit's norm is bounded by {@code c (1 + 1e-6)}.
 */
class UnitMaxNormTest {

    private static final double TOL = 1e-12;

    private static void assertClose(INDArray actual, INDArray expected) {
        assertThat(actual.shape()).isEqualTo(expected.shape());
        INDArray a = actual.castTo(DataType.DOUBLE).dup('c');
        INDArray e = expected.castTo(DataType.DOUBLE).dup('c');
        for (long k = 0; k < e.length(); k++) {
            double x = e.getDouble(k);
            assertThat(a.getDouble(k)).as("element %d", k).isCloseTo(x, within(TOL * Math.abs(x) + 1e-300));
        }
    }

    @Test
    void apply_dense_scalesEachColumnAboveBound() {
        INDArray w = ConstraintFixtures.randn(11, 6, 5); // column norms ~ 2 * sqrt(6) ~ 4.9
        double[] before = Reference.unitNorms(w, false);
        double c = 4.5; // between the smallest and the largest column norm: some columns clip, some do not
        assertThat(list(before)).anySatisfy(n -> assertThat(n).isGreaterThan(c));
        assertThat(list(before)).anySatisfy(n -> assertThat(n).isLessThan(c));
        INDArray expected = Reference.maxNorm(w, c, false);
        INDArray original = w.dup();
        new UnitMaxNorm(c).apply(w);
        assertClose(w, expected);
        for (int j = 0; j < 5; j++) {
            if (before[j] <= c) {
                assertThat(w.getColumn(j)).as("column %d inside the bound", j).isEqualTo(original.getColumn(j));
            }
        }
        assertThat(list(Reference.unitNorms(w, false))).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(c * (1 + 1e-6)));
    }

    @Test
    void apply_denseFortranOrder_sameAsCOrder() {
        INDArray c = ConstraintFixtures.randn(12, 7, 4);
        INDArray f = c.dup('f');
        new UnitMaxNorm(3.0).apply(c);
        new UnitMaxNorm(3.0).apply(f);
        assertClose(f, c);
    }

    @Test
    void apply_conv4d_scalesEachOutputChannel() {
        INDArray w = ConstraintFixtures.randn(13, 4, 2, 3, 3); // channel norms ~ 2 * sqrt(18) ~ 8.5
        double[] before = Reference.unitNorms(w, false);
        double c = median(before);
        assertThat(list(before)).hasSize(4).anySatisfy(n -> assertThat(n).isGreaterThan(c));
        INDArray expected = Reference.maxNorm(w, c, false);
        new UnitMaxNorm(c).apply(w);
        assertClose(w, expected);
    }

    @Test
    void applyToWhole_bias_isOneVector() {
        INDArray b = ConstraintFixtures.randn(14, 1, 6); // norm ~ 4.9
        INDArray expected = Reference.maxNorm(b, 1.0, true);
        new UnitMaxNorm(1.0).applyToWhole(b);
        assertClose(b, expected);
        assertThat(b.norm2Number().doubleValue()).isCloseTo(1.0 * Reference.unitNorms(expected, true)[0],
                within(1e-12)).isLessThan(1.0);
    }

    @Test
    void apply_twice_isBitIdenticalInDouble() {
        INDArray w = ConstraintFixtures.randn(15, 8, 6);
        UnitMaxNorm m = new UnitMaxNorm(2.0);
        m.apply(w);
        INDArray once = w.dup();
        m.apply(w);
        assertThat(w).isEqualTo(once);
    }

    @Test
    void apply_twiceInFloat_changesAtMostTwoE7() {
        INDArray w = ConstraintFixtures.randn(16, 8, 6).castTo(DataType.FLOAT);
        UnitMaxNorm m = new UnitMaxNorm(2.0);
        m.apply(w);
        INDArray once = w.dup();
        m.apply(w);
        double maxRel = w.sub(once).amaxNumber().doubleValue() / once.amaxNumber().doubleValue();
        assertThat(maxRel).isLessThanOrEqualTo(2e-7);
    }

    @Test
    void apply_nonFiniteUnit_isLeftAsItIs() {
        INDArray w = Nd4j.createFromArray(new double[][] {{Double.NaN, 10.0}, {1.0, 10.0}});
        new UnitMaxNorm(1.0).apply(w);
        assertThat(w.getDouble(0, 0)).isNaN();
        assertThat(w.getDouble(1, 0)).isEqualTo(1.0);
        assertThat(w.getColumn(1).norm2Number().doubleValue()).isCloseTo(1.0, within(1e-6));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY})
    void constructor_invalidMaxNorm_namesFieldValueAndRange(double c) {
        assertThatThrownBy(() -> new UnitMaxNorm(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxNorm = " + c + " is out of range: must be finite and > 0");
    }

    /**
     * DL4J's MaxNormConstraint scales every unit by {@code min(n, c) / (n + 1e-6)}: with the same units
     * (dimension 0 for dense, 1-2-3 for convolution) it equals ours on clipped units and shrinks unclipped ones
     * by {@code n / (n + 1e-6)}.
     */
    @Test
    void dl4jMaxNorm_sameUnits_agreesOnClippedUnitsAndShrinksTheOthers() {
        for (long[] shape : new long[][] {{6, 5}, {4, 2, 3, 3}}) {
            INDArray w = ConstraintFixtures.randn(17, shape);
            double[] norms = Reference.unitNorms(w, false);
            double c = median(norms);
            int[] dims = shape.length == 2 ? new int[] {0} : new int[] {1, 2, 3};
            INDArray ours = w.dup();
            new UnitMaxNorm(c).apply(ours);
            INDArray dl4j = w.dup();
            new MaxNormConstraint(c, dims).apply(dl4j);
            INDArray expectedDl4j = ours.dup();
            for (int u = 0; u < norms.length; u++) {
                if (norms[u] <= c) {
                    INDArray unit = shape.length == 2 ? expectedDl4j.getColumn(u) : expectedDl4j.slice(u);
                    unit.muli(norms[u] / (norms[u] + 1e-6));
                }
            }
            assertClose(dl4j, expectedDl4j);
        }
    }

    /** DL4J's documented dimension 1 for dense [nIn, nOut] weights bounds rows (inputs), not output units. */
    @Test
    void dl4jMaxNorm_dimensionOneOnDense_boundsRowsNotColumns() {
        INDArray w = ConstraintFixtures.randn(18, 6, 5);
        INDArray dl4j = w.dup();
        new MaxNormConstraint(1.0, 1).apply(dl4j);
        assertThat(dl4j.norm2(1).maxNumber().doubleValue()).isLessThanOrEqualTo(1.0);
        assertThat(list(Reference.unitNorms(dl4j, false))).anySatisfy(n -> assertThat(n).isGreaterThan(1.0));
        INDArray ours = w.dup();
        new UnitMaxNorm(1.0).apply(ours);
        assertThat(list(Reference.unitNorms(ours, false))).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(1.0));
    }

    @Test
    void fit_dense_unitsEndWithinBoundAndInsideUnitsUntouched() {
        double c = 1.0; // Xavier columns have norm ~1.2-1.4; one SGD(1.0) step moves them further
        MultiLayerNetwork free = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base()));
        MultiLayerNetwork clipped = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base(),
                new UnitMaxNorm(c), new UnitMaxNorm(c), new UnitMaxNorm(c)));
        free.fit(ConstraintFixtures.mlpData());
        clipped.fit(ConstraintFixtures.mlpData());
        for (int layer = 0; layer < 3; layer++) {
            INDArray wFree = ConstraintFixtures.param(free, layer, "W");
            assertThat(list(Reference.unitNorms(wFree, false))).as("layer %d crosses", layer)
                    .anySatisfy(n -> assertThat(n).isGreaterThan(c));
            INDArray w = ConstraintFixtures.param(clipped, layer, "W");
            assertClose(w, Reference.maxNorm(wFree, c, false));
            assertThat(list(Reference.unitNorms(w, false))).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(c * (1 + 1e-6)));
            double[] freeNorms = Reference.unitNorms(wFree, false);
            for (int j = 0; j < freeNorms.length; j++) {
                if (freeNorms[j] <= c) {
                    assertThat(w.getColumn(j)).isEqualTo(wFree.getColumn(j));
                }
            }
            assertThat(ConstraintFixtures.param(clipped, layer, "b")).isEqualTo(ConstraintFixtures.param(free, layer,
                    "b"));
        }
    }

    @Test
    void fit_cnn_outputChannelsEndWithinBound() {
        double c = 0.9;
        MultiLayerNetwork free = ConstraintFixtures.init(ConstraintFixtures.cnnConf());
        MultiLayerNetwork clipped = ConstraintFixtures.init(ConstraintFixtures.cnnConf(new UnitMaxNorm(c)));
        free.fit(ConstraintFixtures.cnnData());
        clipped.fit(ConstraintFixtures.cnnData());
        INDArray wFree = ConstraintFixtures.param(free, 0, "W");
        assertThat(wFree.rank()).isEqualTo(4);
        assertThat(list(Reference.unitNorms(wFree, false))).anySatisfy(n -> assertThat(n).isGreaterThan(c));
        assertClose(ConstraintFixtures.param(clipped, 0, "W"), Reference.maxNorm(wFree, c, false));
    }

    /**
     * In a network DL4J's BaseConstraint applies MaxNormConstraint twice per iteration: a clipped unit is scaled
     * by {@code c / (n + eps)} and then once more by {@code n1 / (n1 + eps)} with {@code n1} its new norm.
     * Ours is applied once and is idempotent; the two therefore differ by that second factor (about 1e-6).
     */
    @Test
    void fit_dl4jMaxNormSameUnits_differsOnlyByItsDoubleApplication() {
        double c = 1.0;
        MultiLayerNetwork ours = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base(),
                new UnitMaxNorm(c)));
        MultiLayerNetwork dl4j = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base(),
                new MaxNormConstraint(c, 0)));
        MultiLayerNetwork free = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base()));
        ours.fit(ConstraintFixtures.mlpData());
        dl4j.fit(ConstraintFixtures.mlpData());
        free.fit(ConstraintFixtures.mlpData());
        INDArray wFree = ConstraintFixtures.param(free, 0, "W");
        INDArray expected = wFree.dup();
        double[] n = Reference.unitNorms(wFree, false);
        for (int j = 0; j < n.length; j++) {
            double f1 = Math.min(n[j], c) / (n[j] + 1e-6);
            double n1 = n[j] * f1;
            double f2 = Math.min(n1, c) / (n1 + 1e-6);
            expected.getColumn(j).muli(f1 * f2);
        }
        assertClose(ConstraintFixtures.param(dl4j, 0, "W"), expected);
        assertClose(ConstraintFixtures.param(ours, 0, "W"), Reference.maxNorm(wFree, c, false));
    }

    @Test
    void json_roundTripInsideConfiguration_equalsOriginal() {
        MultiLayerConfiguration conf = ConstraintFixtures.mlpConf(ConstraintFixtures.base(), new UnitMaxNorm(2.0),
                new UnitMaxNorm(3.0), null);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertThat(back).isEqualTo(conf);
        assertThat(back.getConf(1).getLayer().getConstraints()).containsExactly(
                conf.getConf(1).getLayer().getConstraints().get(0));
        assertThat(MultiLayerConfiguration.fromYaml(conf.toYaml())).isEqualTo(conf);
    }

    private static java.util.List<Double> list(double[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    /** A threshold with about half the units above it and none exactly at it. */
    private static double median(double[] a) {
        double[] s = a.clone();
        java.util.Arrays.sort(s);
        return (s[s.length / 2 - 1] + s[s.length / 2]) / 2; // halfway between two norms: no unit sits on c
    }
}
