package org.dl4jclipping.rnn.conf;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationPReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code resetAfter} switch (parameter layout of each variant) and the activation rules of {@link GRU}. */
class GruVariantConfigurationTest {

    @Test
    void resetAfter_default_isTrue() {
        assertThat(new GRU.Builder().nIn(3).nOut(4).build().isResetAfter()).isTrue();
        assertThat(GRU.DEFAULT_RESET_AFTER).isTrue();
    }

    @Test
    void resetBefore_hasOneBiasAndThreeParameterArrays() {
        GRU conf = new GRU.Builder().nIn(3).nOut(4).resetAfter(false).biasInit(0.25).build();
        assertThat(conf.isResetAfter()).isFalse();
        GRUParamInitializer init = GRUParamInitializer.getInstance();
        assertThat(init.paramKeys(conf)).containsExactly("W", "RW", "b");
        assertThat(init.biasKeys(conf)).containsExactly("b");
        assertThat(init.weightKeys(conf)).containsExactly("W", "RW");
        assertThat(init.isBiasParam(conf, "rb")).isFalse();
        // 3·nOut·(nIn + nOut + 1): W 3x12, RW 4x12, b 1x12
        assertThat(init.numParams(conf)).isEqualTo(3L * 4 * (3 + 4 + 1));

        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .list().layer(conf).build());
        net.init();
        assertThat(net.numParams()).isEqualTo(96L);
        assertThat(net.paramTable().keySet()).containsExactly("0_W", "0_RW", "0_b");
        assertThat(net.getParam("0_W").shape()).containsExactly(3, 12);
        assertThat(net.getParam("0_RW").shape()).containsExactly(4, 12);
        INDArray b = net.getParam("0_b");
        assertThat(b.shape()).containsExactly(1, 12);
        assertThat(b.minNumber().doubleValue()).isEqualTo(0.25);
        assertThat(b.maxNumber().doubleValue()).isEqualTo(0.25);
    }

    @Test
    void resetAfter_hasTwoBiases() {
        GRU conf = new GRU.Builder().nIn(3).nOut(4).resetAfter(true).build();
        assertThat(GRUParamInitializer.getInstance().paramKeys(conf)).containsExactly("W", "RW", "b", "rb");
        assertThat(GRUParamInitializer.getInstance().numParams(conf)).isEqualTo(3L * 4 * (3 + 4 + 2));
    }

    @Test
    void parameterViewOfWrongLength_isRejectedNamingTheVariant() {
        GRU conf = new GRU.Builder().nIn(3).nOut(4).resetAfter(false).build();
        NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().layer(conf).build();
        INDArray tooLong = Nd4j.create(DataType.FLOAT, 1, 3L * 4 * (3 + 4 + 2));
        assertThatThrownBy(() -> GRUParamInitializer.getInstance().init(nnc, tooLong, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length 96")
                .hasMessageContaining("resetAfter=false").hasMessageContaining("got 108");
    }

    @Test
    void hardSigmoid6_isAcceptedAsActivationAndGateActivation() {
        GRU conf = new GRU.Builder().nIn(2).nOut(3).activation(new ActivationHardSigmoid6())
                .gateActivationFunction(new ActivationHardSigmoid6()).resetAfter(false).build();
        assertThat(conf.getActivationFn()).isEqualTo(new ActivationHardSigmoid6());
        assertThat(conf.getGateActivationFn()).isEqualTo(new ActivationHardSigmoid6());
    }

    @Test
    void softmaxActivation_isRejectedNamingField() {
        assertThatThrownBy(() -> new GRU.Builder().nIn(2).nOut(3).activation(Activation.SOFTMAX).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("activation")
                .hasMessageContaining("element-wise").hasMessageContaining("softmax");
    }

    @Test
    void softmaxGateActivation_isRejectedNamingField() {
        assertThatThrownBy(() -> new GRU.Builder().nIn(2).nOut(3).gateActivationFunction(Activation.SOFTMAX)
                .resetAfter(false).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gateActivationFunction")
                .hasMessageContaining("softmax");
    }

    @Test
    void preluGateActivation_isRejectedNamingField() {
        assertThatThrownBy(() -> new GRU.Builder().nIn(2).nOut(3)
                .gateActivationFunction(new ActivationPReLU(Nd4j.ones(DataType.FLOAT, 3), null)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gateActivationFunction must be a function without parameters")
                .hasMessageContaining("prelu");
    }

    @Test
    void nullActivation_isRejected() {
        assertThatThrownBy(() -> new GRU.Builder().nIn(2).nOut(3)
                .activation((org.nd4j.linalg.activations.IActivation) null).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("activation must not be null");
    }
}
