package org.dl4jclipping.constraint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link WeightValueClip}: {@code w <- min(max(w, -c), c)} on arrays of every layout and inside a trained network,
 * against {@link Reference#valueClip}. Clamping involves no arithmetic, so agreement is exact ({@code equals}).
 */
class WeightValueClipTest {

    @Test
    void apply_denseConvAndBias_equalsReferenceExactly() {
        WeightValueClip clip = new WeightValueClip(0.5);
        for (long[] shape : new long[][] {{4, 5}, {3, 2, 3, 3}, {1, 6}}) {
            INDArray w = ConstraintFixtures.randn(7, shape); // std 2: most elements outside [-0.5, 0.5]
            INDArray expected = Reference.valueClip(w, 0.5);
            clip.apply(w);
            assertThat(w).as("shape %s", java.util.Arrays.toString(shape)).isEqualTo(expected);
            assertThat(w.amaxNumber().doubleValue()).isEqualTo(0.5);
        }
    }

    @Test
    void apply_viewOfLargerArray_clipsOnlyTheView() {
        INDArray all = ConstraintFixtures.randn(8, 6, 5);
        INDArray before = all.dup();
        INDArray view = all.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        new WeightValueClip(0.1).apply(view);
        assertThat(all.getRow(0)).isEqualTo(before.getRow(0));
        assertThat(all.getRow(4)).isEqualTo(before.getRow(4));
        assertThat(view).isEqualTo(Reference.valueClip(before.get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3), org.nd4j.linalg.indexing.NDArrayIndex.all()),
                0.1));
    }

    @Test
    void apply_twice_isBitIdentical() {
        INDArray w = ConstraintFixtures.randn(9, 5, 7);
        WeightValueClip clip = new WeightValueClip(0.3);
        clip.apply(w);
        INDArray once = w.dup();
        clip.apply(w);
        assertThat(w).isEqualTo(once);
    }

    @Test
    void apply_floatArray_staysWithinBoundExactly() {
        // 0.1 is not a float: (float) 0.1 = 0.100000001..., above 0.1. The bound used is the float just below.
        INDArray w = ConstraintFixtures.randn(10, 50, 20).castTo(DataType.FLOAT);
        new WeightValueClip(0.1).apply(w);
        for (long k = 0; k < w.length(); k++) {
            assertThat(Math.abs((double) w.getFloat(k))).isLessThanOrEqualTo(0.1);
        }
        assertThat((double) (float) 0.1).isGreaterThan(0.1); // 0.10000000149...
        assertThat(w.amaxNumber().floatValue()).isEqualTo(Math.nextDown((float) 0.1)); // 0.099999994
    }

    @Test
    void apply_infinitiesGoToBounds_nanIsLeft() {
        INDArray w = Nd4j.createFromArray(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 0.25);
        new WeightValueClip(1.0).apply(w);
        assertThat(w.getDouble(0)).isEqualTo(1.0);
        assertThat(w.getDouble(1)).isEqualTo(-1.0);
        assertThat(w.getDouble(2)).isNaN();
        assertThat(w.getDouble(3)).isEqualTo(0.25);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, -0.01, Double.NaN, Double.POSITIVE_INFINITY})
    void constructor_invalidClipValue_namesFieldValueAndRange(double c) {
        assertThatThrownBy(() -> new WeightValueClip(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("clipValue = " + c + " is out of range: must be finite and > 0");
    }

    @Test
    void clone_copiesBoundAndParamsIndependently() {
        WeightValueClip c = new WeightValueClip(0.2);
        c.setParams(Set.of("W"));
        WeightValueClip copy = c.clone();
        assertThat(copy).isEqualTo(c).isNotSameAs(c);
        copy.setParams(Set.of("b"));
        assertThat(c.getParams()).containsExactly("W");
    }

    @Test
    void fit_weightsOutsideBound_endClampedAndInsideUntouched() {
        double c = 0.3; // Xavier on 4x5 .. 6x3 has std ~0.5: after one SGD(1.0) step many weights exceed 0.3
        MultiLayerNetwork free = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base()));
        MultiLayerNetwork clipped = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base(),
                new WeightValueClip(c), new WeightValueClip(c), new WeightValueClip(c)));
        assertThat(clipped.params()).isEqualTo(free.params());
        free.fit(ConstraintFixtures.mlpData());
        clipped.fit(ConstraintFixtures.mlpData());
        for (int layer = 0; layer < 3; layer++) {
            INDArray wFree = ConstraintFixtures.param(free, layer, "W");
            assertThat(wFree.amaxNumber().doubleValue()).as("layer %d crosses the bound", layer).isGreaterThan(c);
            // One step from identical parameters: constrained = clamp(unconstrained) exactly, element by element;
            // elements inside [-c, c] are therefore bit-identical to the unconstrained network's.
            assertThat(ConstraintFixtures.param(clipped, layer, "W")).isEqualTo(Reference.valueClip(wFree, c));
            // Biases are not constrained by constrainWeights.
            assertThat(ConstraintFixtures.param(clipped, layer, "b")).isEqualTo(ConstraintFixtures.param(free, layer,
                    "b"));
        }
    }

    @Test
    void constrainBias_clipsBiasesOnly() {
        MultiLayerConfiguration conf = ConstraintFixtures.base().list()
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(4).nOut(5)
                        .constrainBias(new WeightValueClip(0.01)).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(5).nOut(3)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .build();
        assertThat(conf.getConf(0).getLayer().getConstraints().get(0).getParams()).containsExactly("b");
        MultiLayerNetwork net = ConstraintFixtures.init(conf);
        net.fit(ConstraintFixtures.mlpData());
        assertThat(ConstraintFixtures.param(net, 0, "b").amaxNumber().doubleValue()).isLessThanOrEqualTo(0.01);
        assertThat(ConstraintFixtures.param(net, 0, "W").amaxNumber().doubleValue()).isGreaterThan(0.01);
    }

    @Test
    void json_roundTripInsideConfiguration_equalsOriginal() {
        MultiLayerConfiguration conf = ConstraintFixtures.mlpConf(ConstraintFixtures.base(),
                new WeightValueClip(0.01), null, new WeightValueClip(0.5));
        String json = conf.toJson();
        assertThat(json).contains(WeightValueClip.class.getName());
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertThat(back).isEqualTo(conf);
        assertThat(back.getConf(0).getLayer().getConstraints())
                .singleElement().isInstanceOfSatisfying(WeightValueClip.class, w -> {
                    assertThat(w.getClipValue()).isEqualTo(0.01);
                    assertThat(w.getParams()).containsExactly("W");
                });
    }
}
