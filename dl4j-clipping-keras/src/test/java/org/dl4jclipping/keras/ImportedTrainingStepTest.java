package org.dl4jclipping.keras;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.preprocessor.ComposableInputPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToRnnPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.RnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After {@link KerasImport}, training with the file's own optimizer and clipping takes the steps PyTorch computes:
 * the Keras 2.0.9 file imported at its output "softmax" (GRU reset_after=false, hard_sigmoid; SGD lr 0.02,
 * momentum 0.9, Nesterov, decay 1e-6, clipnorm 5 as one global norm, all installed by the import), a per-step
 * cross-entropy loss layer added (the file's own loss is a CTC Lambda layer), three steps on the batch of
 * {@code keras-training/gru-clipnorm-steps.json} (PyTorch 1.13, float64; see that folder's README and
 * {@code KerasTrainingStepVsPyTorchTest}, which checks the same steps on a network built by hand). Compared after
 * each step in Keras's layout: double within 1e-12 of the largest parameter, float within 1e-6.
 */
class ImportedTrainingStepTest {

    private static final Logger log = LoggerFactory.getLogger(ImportedTrainingStepTest.class);
    private static final int U = 29;

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void importedNetwork_threeStepsWithFileClipping_equalPyTorch(DataType type) throws IOException {
        Path h5 = Fixtures.resource("keras2.0-gru-clipnorm/results_model_0.h5");
        JsonNode fixture;
        try (InputStream in = getClass().getResourceAsStream("/keras-training/gru-clipnorm-steps.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        ComputationGraph imported = KerasImport.functional(h5, "softmax").convertDataType(type);
        ComputationGraph graph = withLoss(imported, type);
        // a new graph: the file's updater and clipping are installed again, with a listener recording the clips
        ClipHistory history = new ClipHistory(10);
        KerasTraining.read(h5).orElseThrow().applyTo(graph, new ClippingListener(history));

        DataSet batch = data(fixture, type);
        double worst = 0;
        double scale = 0;
        for (int step = 0; step < 3; step++) {
            graph.fit(batch);
            JsonNode expected = fixture.get("after_step").get(step);
            INDArray[] ours = {graph.getLayer("rnn").getParam("W"), graph.getLayer("rnn").getParam("RW"),
                    graph.getLayer("rnn").getParam("b")};
            String[] keys = {"kernel", "recurrent_kernel", "bias"};
            double d = 0;
            for (int i = 0; i < 3; i++) {
                INDArray keras = matrix(expected.get(keys[i]));
                INDArray mine = toKeras(ours[i]).castTo(DataType.DOUBLE).reshape(keras.shape());
                d = Math.max(d, mine.sub(keras).amaxNumber().doubleValue());
                scale = Math.max(scale, keras.amaxNumber().doubleValue());
            }
            log.info("imported {} step {}: max |DL4J - PyTorch| = {} (global norm before clip {}, PyTorch {})", type,
                    step + 1, d, history.steps().get(step).normBefore(),
                    fixture.get("grad_norm_before_clip").get(step));
            worst = Math.max(worst, d);
        }
        assertThat(history.clippedSteps()).isEqualTo(3);
        double tolerance = type == DataType.DOUBLE ? 1e-12 : 1e-6;
        assertThat(worst / scale).as("max difference / largest parameter").isLessThanOrEqualTo(tolerance);
    }

    /**
     * The imported graph with a cross-entropy loss layer after its output "softmax" (the imported
     * ActivationLayer, so the loss layer's activation is the identity), same parameters. The loss layer reads NCW
     * (DL4J 1.0.0-M2.1's RnnLossLayer scores NWC data against its own input instead of the labels), through
     * preprocessors from the graph's NWC ([batch, time, n] -> [batch·time, n] -> [batch, n, time]). Built by
     * editing the configuration: DL4J's TransferLearning cannot copy this project's GRU (its parameter
     * initializer does not register the parameter names with the configuration, which TransferLearning's
     * setParams needs).
     */
    private static ComputationGraph withLoss(ComputationGraph imported, DataType type) {
        ComputationGraphConfiguration conf = imported.getConfiguration().clone();
        NeuralNetConfiguration lossConf = new NeuralNetConfiguration.Builder().dataType(type)
                .layer(new RnnLossLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.IDENTITY)
                        .dataFormat(RNNFormat.NCW).build()).build();
        lossConf.getLayer().setLayerName("loss");
        conf.getVertices().put("loss", new LayerVertex(lossConf, new ComposableInputPreProcessor(
                new RnnToFeedForwardPreProcessor(RNNFormat.NWC), new FeedForwardToRnnPreProcessor(RNNFormat.NCW))));
        conf.getVertexInputs().put("loss", List.of("softmax"));
        conf.setNetworkOutputs(List.of("loss"));
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init(imported.params().dup(), false);
        return graph;
    }

    /** Our blocks r, z, n back to Keras's z, r, h (the same swap of the first two blocks). */
    private static INDArray toKeras(INDArray ours) {
        INDArray m = ours.rank() == 1 ? ours.reshape(1, ours.length()) : ours;
        return Nd4j.hstack(m.get(NDArrayIndex.all(), NDArrayIndex.interval(U, 2 * U)),
                m.get(NDArrayIndex.all(), NDArrayIndex.interval(0, U)),
                m.get(NDArrayIndex.all(), NDArrayIndex.interval(2 * U, 3 * U)));
    }

    /** A fixture array (a matrix, or a vector as one row) in double. */
    private static INDArray matrix(JsonNode n) {
        ObjectMapper json = new ObjectMapper();
        return n.get(0).isArray() ? Nd4j.createFromArray(json.convertValue(n, double[][].class))
                : Nd4j.createFromArray(new double[][] {json.convertValue(n, double[].class)});
    }

    /** Features [batch, time, 13], NWC like Keras; one-hot labels [batch, 29, time] for the NCW loss layer. */
    private static DataSet data(JsonNode f, DataType type) {
        double[][][] xs = new ObjectMapper().convertValue(f.get("x"), double[][][].class);
        int[][] labels = new ObjectMapper().convertValue(f.get("labels"), int[][].class);
        INDArray x = Nd4j.createFromArray(xs);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, labels.length, U, labels[0].length);
        for (int i = 0; i < labels.length; i++) {
            for (int s = 0; s < labels[i].length; s++) {
                y.putScalar(new long[] {i, labels[i][s], s}, 1.0);
            }
        }
        return new DataSet(x.castTo(type), y.castTo(type));
    }
}
