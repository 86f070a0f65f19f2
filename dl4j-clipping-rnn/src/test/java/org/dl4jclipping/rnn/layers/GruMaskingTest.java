package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dl4jclipping.rnn.GruTestData;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;

import static org.assertj.core.api.Assertions.assertThat;

/** Mask semantics (as DL4J's LSTM): zero output, zero carried state, zero gradient at masked steps. */
class GruMaskingTest {

    private static GRULayer layer() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .updater(new NoOp()).list().layer(new GRU.Builder().nIn(3).nOut(4).build()).build());
        net.init();
        net.initGradientsView();
        GruTestData.deterministicParams(net, 0.4);
        return (GRULayer) net.getLayer(0);
    }

    private static INDArray step(INDArray a, long b, long t) {
        return a.get(NDArrayIndex.point(b), NDArrayIndex.all(), NDArrayIndex.point(t));
    }

    @Test
    void maskedStepsOutputZeroAndRestartFromZeroState() {
        GRULayer layer = layer();
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray x = GruTestData.input(DataType.DOUBLE, 2, 3, 5, 0.0);
        INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 0, 1, 1}, {1, 1, 1, 1, 1}});
        layer.setInput(x, mgr);
        layer.setMaskArray(mask);
        INDArray out = layer.activate(false, mgr);

        assertThat(step(out, 0, 2).amaxNumber().doubleValue()).isZero();
        assertThat(step(out, 1, 2).amaxNumber().doubleValue()).isGreaterThan(0.0);
        // after the gap, sequence 0 continues as a fresh sequence starting at step 3
        layer.setMaskArray(null);
        layer.setInput(x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(3, 5)).dup(), mgr);
        INDArray fresh = layer.activate(false, mgr);
        assertThat(step(out, 0, 3).equalsWithEps(step(fresh, 0, 0), 1e-12)).isTrue();
        assertThat(step(out, 0, 4).equalsWithEps(step(fresh, 0, 1), 1e-12)).isTrue();
    }

    @Test
    void maskedStepsContributeNoGradient() {
        GRULayer layer = layer();
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray x = GruTestData.input(DataType.DOUBLE, 2, 3, 5, 0.3);
        INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 1, 0, 0}, {1, 1, 1, 1, 1}});
        INDArray eps = Nd4j.ones(DataType.DOUBLE, 2, 4, 5);
        layer.setInput(x, mgr);
        layer.setMaskArray(mask);
        Pair<Gradient, INDArray> g = layer.backpropGradient(eps, mgr);
        INDArray withMask = g.getFirst().gradient().dup();
        assertThat(step(g.getSecond(), 0, 3).amaxNumber().doubleValue()).isZero();
        assertThat(step(g.getSecond(), 0, 4).amaxNumber().doubleValue()).isZero();

        // changing inputs and errors at masked steps changes nothing
        INDArray x2 = x.dup();
        x2.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.interval(3, 5)).assign(7.0);
        INDArray eps2 = eps.dup();
        eps2.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.interval(3, 5)).assign(-5.0);
        layer.setInput(x2, mgr);
        layer.setMaskArray(mask);
        INDArray again = layer.backpropGradient(eps2, mgr).getFirst().gradient();
        assertThat(again.equalsWithEps(withMask, 1e-12)).isTrue();
    }
}
