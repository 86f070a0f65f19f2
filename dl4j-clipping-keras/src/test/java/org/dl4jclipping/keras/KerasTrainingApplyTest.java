package org.dl4jclipping.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.keras.training.TrainingConfigs;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.InverseSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * {@link KerasTraining#applyTo}: every trained layer gets {@code ClippingUpdater(updater, clipping)}, the state is
 * fresh (or starts where Keras's does), one {@link ClippingListener} clips, frozen layers stay frozen; and a step
 * after {@code applyTo} is bit-identical to the same network configured by hand with the documented updater.
 * Networks: Dense(3 -> 4, tanh) + Output(4 -> 2, identity, MSE), double precision, seed 7, a batch of 8 whose
 * targets (x 100) make the global gradient norm far above the file's clipnorm 5, so the clip is active.
 */
class KerasTrainingApplyTest {

    private static final KerasTraining KERAS_209 = KerasTraining.parse(TrainingConfigs.FILE_KERAS_2_0_9, "2.0.9");

    /** What the 2.0.9 file's training configuration is, configured by hand. */
    private static IUpdater expectedUpdater() {
        return new ClippingUpdater(new Nesterovs(new InverseSchedule(ScheduleType.ITERATION, 0.019999999552965164,
                9.999999974752427e-07, 1.0), 0.8999999761581421), Clip.globalNorm(5.0));
    }

    private static MultiLayerConfiguration conf(IUpdater updater, boolean frozenFirst) {
        DenseLayer dense = new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.TANH).build();
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE).updater(updater).list()
                .layer(frozenFirst ? new FrozenLayer(dense) : dense)
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .build();
    }

    private static MultiLayerNetwork net(IUpdater updater, boolean frozenFirst) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf(updater, frozenFirst));
        net.init();
        return net;
    }

    /** Features uniform in [-0.5, 0.5), targets in [0, 100), from java.util.Random(11): the same batch each call. */
    private static DataSet batch() {
        java.util.Random r = new java.util.Random(11);
        double[][] x = new double[8][3];
        double[][] y = new double[8][2];
        for (int i = 0; i < 8; i++) {
            for (int k = 0; k < 3; k++) {
                x[i][k] = r.nextDouble() - 0.5;
            }
            for (int k = 0; k < 2; k++) {
                y[i][k] = 100 * r.nextDouble();
            }
        }
        return new DataSet(Nd4j.createFromArray(x), Nd4j.createFromArray(y));
    }

    private static long clippingListeners(java.util.Collection<TrainingListener> ls) {
        return ls.stream().filter(l -> l instanceof ClippingListener).count();
    }

    @Test
    void applyTo_multiLayerNetwork_installsClippingUpdaterOnEveryLayerAndOneListener() {
        MultiLayerNetwork net = net(new Adam(0.1), false);
        net.fit(batch()); // Adam state now non-zero, as DL4J's import may leave it
        net.addListeners(new ClippingListener());
        KERAS_209.applyTo(net);
        for (int i = 0; i < 2; i++) {
            BaseLayer l = (BaseLayer) net.getLayerWiseConfigurations().getConf(i).getLayer();
            assertThat(l.getIUpdater()).isEqualTo(expectedUpdater());
            assertThat(l.getBiasUpdater()).isNull();
        }
        assertThat(clippingListeners(net.getListeners())).isEqualTo(1);
        INDArray state = net.getUpdater().getStateViewArray();
        assertThat(state.length()).isEqualTo(net.numParams()); // Nesterovs: one velocity per parameter
        assertThat(state.amaxNumber().doubleValue()).isZero();
    }

    @Test
    void stepAfterApplyTo_equalsHandConfiguredNetwork_bitForBit_withClipActive() {
        MultiLayerNetwork imported = net(new Adam(0.1), false);
        ClipHistory history = new ClipHistory(10);
        KERAS_209.applyTo(imported, new ClippingListener(history));
        MultiLayerNetwork byHand = net(expectedUpdater(), false);
        byHand.setParams(imported.params().dup());
        byHand.addListeners(new ClippingListener());
        for (int step = 0; step < 3; step++) {
            imported.fit(batch());
            byHand.fit(batch());
        }
        assertThat(imported.params()).isEqualTo(byHand.params());
        assertThat(history.recorded()).isEqualTo(3);
        assertThat(history.clippedSteps()).isEqualTo(3);
        assertThat(history.steps().get(0).normBefore()).isGreaterThan(5.0);
        assertThat(history.steps().get(0).normAfter()).isLessThanOrEqualTo(5.0);
    }

    @Test
    void applyTo_computationGraph_sameUpdaterAndStep() {
        MultiLayerNetwork byHand = net(expectedUpdater(), false);
        byHand.addListeners(new ClippingListener());
        ComputationGraph graph = net(new Adam(0.1), false).toComputationGraph();
        graph.setParams(byHand.params().dup());
        KERAS_209.applyTo(graph);
        assertThat(graph.getLayers()).hasSize(2);
        for (org.deeplearning4j.nn.api.Layer layer : graph.getLayers()) {
            assertThat(((BaseLayer) layer.conf().getLayer()).getIUpdater()).isEqualTo(expectedUpdater());
        }
        assertThat(clippingListeners(graph.getListeners())).isEqualTo(1);
        DataSet d = batch();
        graph.fit(new org.nd4j.linalg.dataset.MultiDataSet(d.getFeatures(), d.getLabels()));
        byHand.fit(d);
        assertThat(graph.params()).isEqualTo(byHand.params());
    }

    @Test
    void frozenLayer_keepsNoUpdate_otherLayersTrain() {
        MultiLayerNetwork net = net(new Adam(0.1), true);
        INDArray frozenBefore = net.getLayer(0).params().dup();
        INDArray outBefore = net.getLayer(1).params().dup();
        KERAS_209.applyTo(net);
        net.fit(batch());
        assertThat(net.getLayer(0).params()).isEqualTo(frozenBefore);
        assertThat(net.getLayer(1).params()).isNotEqualTo(outBefore);
        // DL4J's FrozenLayer answers null (no updater) for its parameters; it must not have been given ours
        assertThat(net.getLayerWiseConfigurations().getConf(0).getLayer().getUpdaterByParam("W"))
                .isNull();
    }

    @Test
    void rmsprop_stateStartsAtZeroAsKeras_adagradAtInitialAccumulator() {
        MultiLayerNetwork net = net(new Adam(0.1), false);
        KerasTraining.parse(TrainingConfigs.optimizer("RMSprop", "\"lr\": 0.001, \"rho\": 0.9, \"epsilon\": 1e-07, "
                + "\"decay\": 0.0, \"clipvalue\": 1.0"), "2.2.4").applyTo(net);
        // DL4J's RmsProp alone starts its state at epsilon
        assertThat(net.getUpdater().getStateViewArray().amaxNumber().doubleValue()).isZero();
        KerasTraining.parse(TrainingConfigs.optimizer("Adagrad", "\"name\": \"Adagrad\", \"learning_rate\": 0.001, "
                + "\"initial_accumulator_value\": 0.1, \"epsilon\": 1e-07, \"decay\": 0.0"), "2.10.0").applyTo(net);
        INDArray s = net.getUpdater().getStateViewArray();
        assertThat(s.minNumber().doubleValue()).isEqualTo(0.1);
        assertThat(s.maxNumber().doubleValue()).isEqualTo(0.1);
    }

    @Test
    void noClipping_plainUpdaterAndNoListener() {
        MultiLayerNetwork net = net(new Adam(0.1), false);
        KerasTraining.parse(TrainingConfigs.FILE_KERAS_3_8_0, "3.8.0").applyTo(net);
        IUpdater u = ((BaseLayer) net.getLayerWiseConfigurations().getConf(0).getLayer()).getIUpdater();
        assertThat(u).isInstanceOf(Adam.class);
        assertThat(((Adam) u).getLearningRate()).isEqualTo(0.0010000000474974513);
        assertThat(clippingListeners(net.getListeners())).isZero();
    }

    @Test
    void withUpdater_keepsTheFileClippingWithTheGivenOptimizer() {
        MultiLayerNetwork net = net(new Adam(0.1), false);
        KerasTraining t = KERAS_209.withUpdater(new Adam(3e-3));
        t.applyTo(net);
        assertThat(((BaseLayer) net.getLayerWiseConfigurations().getConf(1).getLayer()).getIUpdater())
                .isEqualTo(new ClippingUpdater(new Adam(3e-3), Clip.globalNorm(5.0)));
        assertThat(t.description()).startsWith("clipnorm=5.0 from Keras 2.0.9").contains("set by the user")
                .contains("the file's was SGD(");
        assertThatThrownBy(() -> KERAS_209.withUpdater(expectedUpdater()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plain DL4J updater");
    }

    @Test
    void applyToTwice_stillOneClippingListener() {
        MultiLayerNetwork net = net(new Adam(0.1), false);
        KERAS_209.applyTo(net);
        KERAS_209.applyTo(net);
        assertThat(clippingListeners(net.getListeners())).isEqualTo(1);
    }

    @Test
    void uninitialisedNetwork_refusedSayingInit() {
        MultiLayerNetwork net = new MultiLayerNetwork(conf(new Adam(0.1), false));
        assertThatThrownBy(() -> KERAS_209.applyTo(net)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("net.init()");
    }
}
