package org.dl4jclipping.rnn.layers;

import static org.assertj.core.api.Assertions.assertThat;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.rnn.GruTestData;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Regression test of a defect the CPU kernel fixed: a NativeLSTM of width 1 failed in ND4J 1.0.0-M2.1, because
 * libnd4j's {@code lstmLayer} op rejects a recurrent weight of one row ("MmulHelper::mmulMxM: B array has wrong
 * number of rows"). On the CPU it now trains, with DL4J's LSTM's numbers: output, score and every gradient equal
 * DL4J's LSTM (same parameters) to 1e-12 in double.
 */
class NativeLstmWidthOneTest {

    private static MultiLayerNetwork network(Layer lstm) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5)
                .dataType(DataType.DOUBLE).updater(new NoOp()).list()
                .layer(lstm)
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nIn(1).nOut(3)
                        .build())
                .build());
        net.init();
        return net;
    }

    @Test
    void nativeLstmOfWidthOne_matchesDl4jsLstm_whereLibnd4jsOpFailed() {
        MultiLayerNetwork dl4j = network(new LSTM.Builder().nIn(2).nOut(1).activation(Activation.TANH).build());
        MultiLayerNetwork ours = network(new NativeLSTM.Builder().nIn(2).nOut(1).build());
        GruTestData.deterministicParams(dl4j, 0.4);
        ours.setParams(dl4j.params().dup());
        INDArray x = GruTestData.input(DataType.DOUBLE, 3, 2, 6, 0.2);
        INDArray y = GruTestData.sequenceLabels(DataType.DOUBLE, 3, 3, 6);

        assertThat(ours.output(x).sub(dl4j.output(x)).amaxNumber().doubleValue()).isLessThan(1e-12);
        for (MultiLayerNetwork n : new MultiLayerNetwork[] {dl4j, ours}) {
            n.setInput(x);
            n.setLabels(y);
            n.computeGradientAndScore();
        }
        assertThat(Math.abs(ours.score() - dl4j.score())).isLessThan(1e-12);
        INDArray g = ours.gradient().gradient();
        assertThat(g.amaxNumber().doubleValue()).isGreaterThan(1e-6);   // a real gradient, not zeros
        assertThat(g.sub(dl4j.gradient().gradient()).amaxNumber().doubleValue()).isLessThan(1e-12);
    }
}
