package org.dl4jclipping.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An imported network is a plain DL4J network: saved with {@link ModelSerializer} and restored, its configuration
 * (this project's GRU, KerasRecurrent, KerasBidirectional, TimeDistributed Dense, loss layers) reads back equal
 * and it predicts bit for bit what it predicted before.
 */
class ImportedModelSerializationTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"tf2-gru-forecaster/model_gru.h5, 24, 36", "keras3-gru-classifier/GRU_model.h5, 20, 17",
            "variants/masked_backwards_reset_before.h5, 7, 3", "variants/keras3_masked_last_linear.h5, 7, 3",
            "variants/bidirectional_mul.h5, 7, 3", "variants/bidirectional_last.h5, 7, 3"})
    void sequential_savedAndRestored_predictsTheSame(String file, int time, int features) throws IOException {
        MultiLayerNetwork net = KerasImport.sequential(Fixtures.resource(file));
        double[][][] seqs = Fixtures.randomSequences(5, 3, time, features);
        java.util.Arrays.fill(seqs[1][time - 1], 0.0);
        INDArray x = Fixtures.nwc(seqs, DataType.FLOAT);
        INDArray before = net.output(x);
        File saved = dir.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, saved, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(saved, true);
        assertThat(restored.getLayerWiseConfigurations()).isEqualTo(net.getLayerWiseConfigurations());
        assertThat(restored.output(x)).isEqualTo(before);
    }

    @Test
    void functional_savedAndRestored_predictsTheSame() throws IOException {
        ComputationGraph graph = KerasImport.functional(Fixtures.resource("keras2.0-gru-clipnorm/results_model_0.h5"),
                "softmax");
        INDArray x = Fixtures.nwc(Fixtures.randomSequences(6, 2, 9, 13), DataType.FLOAT);
        INDArray before = graph.outputSingle(x);
        File saved = dir.resolve("graph.zip").toFile();
        ModelSerializer.writeModel(graph, saved, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(saved, true);
        assertThat(restored.getConfiguration()).isEqualTo(graph.getConfiguration());
        assertThat(restored.outputSingle(x)).isEqualTo(before);
    }
}
