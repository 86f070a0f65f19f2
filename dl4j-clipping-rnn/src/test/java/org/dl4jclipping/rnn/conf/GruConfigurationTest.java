package org.dl4jclipping.rnn.conf;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Builder defaults, validation and the parameter layout. */
class GruConfigurationTest {

    @Test
    void defaultsAreTanhActivationAndSigmoidGates() {
        GRU gru = new GRU.Builder().nIn(3).nOut(4).build();
        assertThat(gru.getActivationFn()).isInstanceOf(ActivationTanH.class);
        assertThat(gru.getGateActivationFn()).isInstanceOf(ActivationSigmoid.class);
    }

    @Test
    void nonPositiveNOutIsRejectedNamingFieldValueAndRange() {
        assertThatThrownBy(() -> new GRU.Builder().nIn(3).nOut(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nOut").hasMessageContaining("> 0")
                .hasMessageContaining("got 0");
    }

    @Test
    void negativeNInIsRejected() {
        assertThatThrownBy(() -> new GRU.Builder().nIn(-2).nOut(4).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nIn").hasMessageContaining(">= 0")
                .hasMessageContaining("got -2");
    }

    @Test
    void missingNInIsRejectedWhenTheLayerIsInstantiated() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new GRU.Builder().nOut(4).build()).build());
        assertThatThrownBy(net::init).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nIn must be > 0").hasMessageContaining("got 0");
    }

    @Test
    void nullGateActivationIsRejected() {
        assertThatThrownBy(() -> new GRU.Builder().gateActivationFunction(
                (org.nd4j.linalg.activations.IActivation) null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gateActivationFunction");
    }

    @Test
    void parametersHaveTransposedPyTorchShapesAndBiasesStartAtBiasInit() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .list().layer(new GRU.Builder().nIn(3).nOut(4).biasInit(0.25).build()).build());
        net.init();
        assertThat(net.numParams()).isEqualTo(3L * 4 * (3 + 4 + 2));
        INDArray w = net.getParam("0_" + GRUParamInitializer.INPUT_WEIGHT_KEY);
        INDArray rw = net.getParam("0_" + GRUParamInitializer.RECURRENT_WEIGHT_KEY);
        assertThat(w.shape()).containsExactly(3, 12);
        assertThat(rw.shape()).containsExactly(4, 12);
        assertThat(w.amaxNumber().doubleValue()).isGreaterThan(0.0);
        for (String bias : new String[] {GRUParamInitializer.BIAS_KEY, GRUParamInitializer.RECURRENT_BIAS_KEY}) {
            INDArray b = net.getParam("0_" + bias);
            assertThat(b.shape()).containsExactly(1, 12);
            assertThat(b.minNumber().doubleValue()).isEqualTo(0.25);
            assertThat(b.maxNumber().doubleValue()).isEqualTo(0.25);
        }
    }

    @Test
    void biasesDefaultToZero() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new GRU.Builder().nIn(2).nOut(3).build()).build());
        net.init();
        assertThat(net.getParam("0_b").amaxNumber().doubleValue()).isZero();
        assertThat(net.getParam("0_rb").amaxNumber().doubleValue()).isZero();
    }

    @Test
    void recurrentAndInputWeightConstraintsTargetRwAndW() {
        GRU gru = new GRU.Builder().nIn(2).nOut(3)
                .constrainRecurrent(new org.deeplearning4j.nn.conf.constraint.MaxNormConstraint(1.0, 1))
                .constrainInputWeights(new org.deeplearning4j.nn.conf.constraint.NonNegativeConstraint())
                .build();
        assertThat(gru.getConstraints()).hasSize(2);
        assertThat(gru.getConstraints().get(0).getParams()).containsExactly(GRUParamInitializer.RECURRENT_WEIGHT_KEY);
        assertThat(gru.getConstraints().get(1).getParams()).containsExactly(GRUParamInitializer.INPUT_WEIGHT_KEY);
    }
}
