package org.dl4jclipping.rnn;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;

/** JSON of the reset-before GRU with {@link ActivationHardSigmoid6}, and JSON written before {@code resetAfter}. */
class GruVariantSerializationTest {

    private static MultiLayerConfiguration conf(boolean resetAfter) {
        return new NeuralNetConfiguration.Builder().seed(11).dataType(DataType.DOUBLE).list()
                .layer(new GRU.Builder().nIn(3).nOut(5).resetAfter(resetAfter)
                        .gateActivationFunction(new ActivationHardSigmoid6()).activation(Activation.RELU).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MSE).activation(Activation.IDENTITY).nIn(5).nOut(2)
                        .build())
                .build();
    }

    @Test
    void resetBeforeWithHardSigmoid6_roundTripsThroughJson_andGivesTheSameOutput() {
        MultiLayerConfiguration conf = conf(false);
        String json = conf.toJson();
        assertThat(json).contains("\"resetAfter\" : false").contains(ActivationHardSigmoid6.class.getName());
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(json);
        assertThat(restored).isEqualTo(conf);
        GRU gru = (GRU) restored.getConf(0).getLayer();
        assertThat(gru.isResetAfter()).isFalse();
        assertThat(gru.getGateActivationFn()).isInstanceOf(ActivationHardSigmoid6.class);

        MultiLayerNetwork a = new MultiLayerNetwork(conf);
        a.init();
        MultiLayerNetwork b = new MultiLayerNetwork(restored);
        b.init(a.params().dup(), false);
        assertThat(b.numParams()).isEqualTo(3L * 5 * (3 + 5 + 1) + 5 * 2 + 2);
        INDArray x = GruTestData.input(DataType.DOUBLE, 2, 3, 4, 0.2);
        assertThat(b.output(x).equalsWithEps(a.output(x), 0.0)).isTrue();
    }

    @Test
    void jsonWithoutResetAfter_readsAsResetAfterTrue() throws Exception {
        // JSON as written before the field existed: the same configuration with the "resetAfter" property removed.
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = (ObjectNode) mapper.readTree(conf(true).toJson());
        ObjectNode gruNode = (ObjectNode) root.get("confs").get(0).get("layer");
        assertThat(gruNode.has("resetAfter")).isTrue();
        gruNode.remove("resetAfter");
        String oldJson = mapper.writeValueAsString(root);
        assertThat(oldJson).doesNotContain("resetAfter");

        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(oldJson);
        GRU gru = (GRU) restored.getConf(0).getLayer();
        assertThat(gru.isResetAfter()).isTrue();
        assertThat(restored).isEqualTo(conf(true));
    }
}
