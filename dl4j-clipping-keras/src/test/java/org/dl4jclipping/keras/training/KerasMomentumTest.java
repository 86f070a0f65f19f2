package org.dl4jclipping.keras.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.InverseSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * {@link KerasMomentum} as a DL4J updater configuration: validation, JSON, a save and restore in the middle of
 * training that continues bit for bit, and the map-based state. Its update formula is checked against Keras's in
 * {@link UpdaterFormulaTest}. Network: Dense(3 -> 4, tanh) + Output(4 -> 2, MSE), double, seed 5.
 */
class KerasMomentumTest {

    private static final KerasMomentum MOMENTUM = new KerasMomentum(0.05,
            new InverseSchedule(ScheduleType.ITERATION, 0.05, 0.1, 1.0), 0.9);

    private static MultiLayerConfiguration conf() {
        return conf(MOMENTUM);
    }

    private static MultiLayerConfiguration conf(org.nd4j.linalg.learning.config.IUpdater u) {
        return new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
                .updater(new ClippingUpdater(u, Clip.globalNorm(1.0))).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .build();
    }

    /** Uniform features in [0, 1) and targets in [0, 10), from java.util.Random(seed). */
    private static DataSet batch(int seed) {
        java.util.Random r = new java.util.Random(seed);
        double[][] x = new double[8][3];
        double[][] y = new double[8][2];
        for (int i = 0; i < 8; i++) {
            for (int k = 0; k < 3; k++) {
                x[i][k] = r.nextDouble();
            }
            for (int k = 0; k < 2; k++) {
                y[i][k] = 10 * r.nextDouble();
            }
        }
        return new DataSet(Nd4j.createFromArray(x), Nd4j.createFromArray(y));
    }

    @Test
    void outOfRange_refusedNamingField() {
        assertThatThrownBy(() -> new KerasMomentum(0.1, null, 1.0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("momentum").hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> new KerasMomentum(-0.1, null, 0.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("learningRate");
    }

    @Test
    void json_roundTripsInsideClippingUpdater() {
        MultiLayerConfiguration c = conf();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(c.toJson());
        assertThat(back).isEqualTo(c);
        assertThat(((org.deeplearning4j.nn.conf.layers.BaseLayer) back.getConf(0).getLayer()).getIUpdater())
                .isEqualTo(new ClippingUpdater(MOMENTUM, Clip.globalNorm(1.0)));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void saveAndRestoreMidTraining_continuesBitForBit(boolean ours) throws Exception {
        org.nd4j.linalg.learning.config.IUpdater u = ours ? MOMENTUM : new org.nd4j.linalg.learning.config.Nesterovs(
                new InverseSchedule(ScheduleType.ITERATION, 0.05, 0.1, 1.0), 0.9);
        MultiLayerNetwork straight = new MultiLayerNetwork(conf(u));
        straight.init();
        straight.addListeners(new ClippingListener());
        MultiLayerNetwork resumed = new MultiLayerNetwork(conf(u));
        resumed.init();
        resumed.addListeners(new ClippingListener());
        for (int s = 0; s < 3; s++) {
            straight.fit(batch(s));
            resumed.fit(batch(s));
            }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(resumed, bytes, true);
        resumed = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes.toByteArray()), true);
        resumed.addListeners(new ClippingListener());
        for (int s = 3; s < 6; s++) {
            straight.fit(batch(s));
            resumed.fit(batch(s));
        }
        assertThat(resumed.params()).isEqualTo(straight.params());
        assertThat(resumed.getUpdater().getStateViewArray()).isEqualTo(straight.getUpdater().getStateViewArray());
    }

    @Test
    void mapState_sameStepAsViewState() {
        INDArray g1 = Nd4j.createFromArray(1.0, -2.0, 3.0).reshape(1, 3);
        INDArray g2 = g1.dup();
        GradientUpdater<?> byView = MOMENTUM.instantiate(Nd4j.zeros(DataType.DOUBLE, 1, 3), true);
        Map<String, INDArray> state = new HashMap<>();
        state.put(KerasMomentumUpdater.V_STATE, Nd4j.ones(DataType.DOUBLE, 1, 3));
        GradientUpdater<?> byMap = MOMENTUM.instantiate(state, true); // initialise: the velocity starts at 0
        byView.applyUpdater(g1, 0, 0);
        byMap.applyUpdater(g2, 0, 0);
        // first step: v = -lr g, the output -v = lr g with lr = 0.05 / (1 + 0.1 * 0)
        assertThat(g1).isEqualTo(Nd4j.createFromArray(0.05, -0.1, 0.15000000000000002).reshape(1, 3));
        assertThat(g2).isEqualTo(g1);
    }
}
