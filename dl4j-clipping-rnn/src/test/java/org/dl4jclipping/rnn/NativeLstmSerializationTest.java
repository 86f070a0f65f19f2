package org.dl4jclipping.rnn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.io.File;

import static org.assertj.core.api.Assertions.assertThat;

/** JSON and ModelSerializer round trips of networks containing {@link NativeLSTM}. */
class NativeLstmSerializationTest {

    private static MultiLayerConfiguration mlnConf(double retainProbability) {
        return new NeuralNetConfiguration.Builder().seed(3).updater(new Adam(0.01)).list()
                .layer(new NativeLSTM.Builder().nIn(3).nOut(6).activation(Activation.SOFTSIGN)
                        .forgetGateBiasInit(2.0).dropOut(retainProbability).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(6).nOut(2).build())
                .build();
    }

    @Test
    void multiLayerConfigurationJsonRoundTripIsEqualAndGivesSameOutput() {
        MultiLayerConfiguration conf = mlnConf(0.9);
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(conf.toJson());
        assertThat(restored).isEqualTo(conf);
        assertThat(restored.getConf(0).getLayer()).isInstanceOf(NativeLSTM.class);

        MultiLayerNetwork a = new MultiLayerNetwork(conf);
        a.init();
        MultiLayerNetwork b = new MultiLayerNetwork(restored);
        b.init(a.params().dup(), false);
        INDArray x = GruTestData.input(DataType.FLOAT, 2, 3, 4, 0.0);
        assertThat(b.output(x).equalsWithEps(a.output(x), 1e-6)).isTrue();
    }

    @Test
    void computationGraphConfigurationJsonRoundTripIsEqualAndGivesSameOutput() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).graphBuilder()
                .addInputs("in").setInputTypes(InputType.recurrent(3))
                .addLayer("lstm", new NativeLSTM.Builder().nOut(5).build(), "in")
                .addLayer("out", new RnnOutputLayer.Builder(LossFunction.MSE).activation(Activation.IDENTITY)
                        .nOut(2).build(), "lstm")
                .setOutputs("out").build();
        ComputationGraphConfiguration restored = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertThat(restored).isEqualTo(conf);

        ComputationGraph a = new ComputationGraph(conf);
        a.init();
        ComputationGraph b = new ComputationGraph(restored);
        b.init(a.params().dup(), false);
        INDArray x = GruTestData.input(DataType.FLOAT, 2, 3, 4, 0.3);
        assertThat(b.outputSingle(x).equalsWithEps(a.outputSingle(x), 1e-6)).isTrue();
    }

    @Test
    void modelSerializerRestoresParamsOutputAndTraining(@TempDir File dir) throws Exception {
        MultiLayerNetwork net = new MultiLayerNetwork(mlnConf(1.0));
        net.init();
        INDArray x = GruTestData.input(DataType.FLOAT, 4, 3, 7, 0.1);
        DataSet ds = new DataSet(x, GruTestData.sequenceLabels(DataType.FLOAT, 4, 2, 7));
        net.fit(ds);
        File file = new File(dir, "lstm.zip");
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);

        assertThat(restored.params().equalsWithEps(net.params(), 0.0)).isTrue();
        assertThat(restored.output(x).equalsWithEps(net.output(x), 1e-6)).isTrue();
        double before = restored.score(ds);
        for (int i = 0; i < 20; i++) {
            restored.fit(ds);
            net.fit(ds);
        }
        assertThat(restored.params().equalsWithEps(net.params(), 1e-5)).as("training continues identically").isTrue();
        assertThat(restored.score(ds)).isLessThan(before);
    }
}
