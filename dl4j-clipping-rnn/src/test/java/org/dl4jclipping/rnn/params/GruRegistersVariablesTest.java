package org.dl4jclipping.rnn.params;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Regression (found by the Keras import): GRUParamInitializer did not register its parameters as the layer
 * configuration's variables, so DL4J's {@code setParams} (and with it TransferLearning) failed with "must be of
 * length 0" on any network with a GRU. Both variants: W, RW, b (and rb when reset-after) registered; setParams of
 * the network's own parameters plus 1 leaves every GRU parameter 1 larger.
 */
class GruRegistersVariablesTest {

    @Test
    void gruParametersAreConfigurationVariables_soSetParamsWorks() {
        for (boolean resetAfter : new boolean[] {true, false}) {
            MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).list()
                    .layer(new GRU.Builder().nIn(3).nOut(4).resetAfter(resetAfter).build())
                    .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                            .activation(Activation.IDENTITY).build())
                    .build());
            net.init();
            assertThat(net.getLayer(0).conf().getVariables()).containsExactlyElementsOf(
                    resetAfter ? List.of("W", "RW", "b", "rb") : List.of("W", "RW", "b"));
            INDArray before = net.getLayer(0).getParam("RW").dup();
            net.getLayer(0).setParams(net.getLayer(0).params().add(1.0));
            assertThat(net.getLayer(0).getParam("RW").sub(before).minNumber().doubleValue()).isEqualTo(1.0,
                    org.assertj.core.data.Offset.offset(1e-6));
        }
    }
}
