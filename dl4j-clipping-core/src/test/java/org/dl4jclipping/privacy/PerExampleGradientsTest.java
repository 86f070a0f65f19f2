package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.privacy.PrivateNets.Case;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Sgd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Per-example gradients (privacy.md, "Per-example gradients and their norms"): the fast path's gradients, norms
 * (ghost and explicit) and clipped sums equal the generic path's, which is DL4J's own backpropagation of each
 * example alone, within 1e-12 relative (to the largest gradient element) in double and 1e-6 in float; and the
 * per-example gradients add up to DL4J's batch gradient (DL4J sums over the batch), so neither path drops or
 * double-counts an example, a masked step or a repeated token.
 */
class PerExampleGradientsTest {

    private static final Logger LOG = LoggerFactory.getLogger(PerExampleGradientsTest.class);

    static Stream<Case> fastCases() {
        List<Case> out = new ArrayList<>();
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            out.add(PrivateNets.mlp(type, new Sgd(0.1)));
            out.add(PrivateNets.timeSeries(type, 2, 5, true));   // 2 T^2 = 8 <= nIn nOut: ghost norms
            out.add(PrivateNets.timeSeries(type, 7, 5, true));   // 98 > 15 and 10: explicit norms
            out.add(PrivateNets.timeSeries(type, 4, 5, false));  // feature mask only
            out.add(PrivateNets.embedding(type));
            out.add(PrivateNets.embeddingSequence(type, RNNFormat.NCW));
            out.add(PrivateNets.embeddingSequence(type, RNNFormat.NWC));
        }
        return out.stream();
    }

    static Stream<Case> allCases() {
        return Stream.concat(fastCases(), Stream.of(PrivateNets.lstm(DataType.DOUBLE),
                PrivateNets.lstm(DataType.FLOAT)));
    }

    private static double tolerance(MultiLayerNetwork net) {
        return net.params().dataType() == DataType.DOUBLE ? 1e-12 : 1e-6;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fastCases")
    void fastPath_equalsSingleExampleBackprop(Case c) {
        PerExampleGradients fast = PerExampleGradients.of(c.net(), c.batch());
        PerExampleGradients generic = PerExampleGradients.generic(c.net(), c.batch());
        assertThat(fast.fast()).as("fast path chosen").isTrue();
        INDArray g = generic.matrix();
        double scale = g.amaxNumber().doubleValue();
        double diff = fast.matrix().sub(g).amaxNumber().doubleValue() / scale;
        double[] fn = fast.norms();
        double[] gn = rowNorms(g);
        double normDiff = 0;
        for (int i = 0; i < fn.length; i++) {
            normDiff = Math.max(normDiff, Math.abs(fn[i] - gn[i]) / gn[i]);
        }
        LOG.info("{}: gradients {} relative, norms {} relative", c, diff, normDiff);
        assertThat(diff).isLessThanOrEqualTo(tolerance(c.net()));
        assertThat(normDiff).isLessThanOrEqualTo(tolerance(c.net()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fastCases")
    void fastPath_clippedSum_equalsWeightedSumOfGenericRows(Case c) {
        PerExampleGradients fast = PerExampleGradients.of(c.net(), c.batch());
        INDArray g = PerExampleGradients.generic(c.net(), c.batch()).matrix();
        int b = fast.batchSize();
        int layers = fast.layerIndices().length;
        double[][] factors = new double[layers][b];
        for (int s = 0; s < layers; s++) {
            for (int i = 0; i < b; i++) {
                factors[s][i] = 0.25 + 0.5 * ((i + s) % 3);   // differs by layer: per-layer clipping
            }
        }
        INDArray sum = g.ulike().getRow(0, true).assign(0);
        fast.writeClippedSum(factors, sum);
        INDArray expected = sum.ulike().assign(0);
        INDArray perLayer = expected.ulike();
        for (int i = 0; i < b; i++) {
            for (LayerViews v : LayerViews.of(c.net(), perLayer.assign(0))) {
                int s = indexOf(fast.layerIndices(), v.layer());
                v.flat().assign(g.getRow(i, true).get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(v.offset(), v.offset() + v.flat().length()))
                        .mul(factors[s][i]));
            }
            expected.addi(perLayer);
        }
        double diff = sum.sub(expected).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue();
        LOG.info("{}: clipped sum {} relative", c, diff);
        assertThat(diff).isLessThanOrEqualTo(tolerance(c.net()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allCases")
    void perExampleGradients_sumToDl4jBatchGradient(Case c) {
        PerExampleGradients pe = PerExampleGradients.of(c.net(), c.batch());
        INDArray sum = pe.matrix().sum(0);
        MultiLayerNetwork net = c.net();
        net.setInput(c.batch().getFeatures());
        net.setLabels(c.batch().getLabels());
        net.setLayerMaskArrays(c.batch().getFeaturesMaskArray(), c.batch().getLabelsMaskArray());
        net.computeGradientAndScore();
        INDArray batch = net.getFlattenedGradients().reshape(sum.shape());
        double diff = sum.sub(batch).amaxNumber().doubleValue() / batch.amaxNumber().doubleValue();
        LOG.info("{}: sum vs DL4J batch gradient {} relative ({} path)", c, diff, pe.fast() ? "fast" : "generic");
        assertThat(diff).isLessThanOrEqualTo(tolerance(net) * 10);
    }

    /**
     * The LSTM's fast path is a service of dl4j-clipping-rnn, which is not on this module's class path: without it the
     * layer runs on the generic path and is named as the reason (dl4j-clipping-rnn's RecurrentFastPathTest checks the
     * other side).
     */
    @Test
    void lstm_withoutTheRnnModule_runsOnGenericPath_namingTheLayer() {
        Case c = PrivateNets.lstm(DataType.DOUBLE);
        assertThat(PerExampleGradients.of(c.net(), c.batch()).fast()).isFalse();
        assertThat(PerExampleGradients.slowLayers(c.net())).singleElement().asString()
                .contains("layer 0").contains("LSTM").contains("no fast path");
    }

    @Test
    void batchNormalization_refusedNamingTheLayerAndTheFix() {
        MultiLayerNetwork net = PrivateNets.batchNorm();
        assertThatThrownBy(() -> PerExampleGradients.requireSupported(net))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layer 1 (\"bn\", BatchNormalization)")
                .hasMessageContaining("mixes the examples")
                .hasMessageContaining("remove it");
    }

    private static double[] rowNorms(INDArray g) {
        return g.norm2(1).toDoubleVector();
    }

    private static int indexOf(int[] a, int v) {
        for (int k = 0; k < a.length; k++) {
            if (a[k] == v) {
                return k;
            }
        }
        throw new AssertionError(v);
    }
}
