package org.dl4jclipping.keras;

import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.dl4jclipping.keras.KerasReference.activation;

/**
 * The Keras 2.0.9 functional file (speech recognizer: GRU "rnn" with reset_after absent = false and
 * hard_sigmoid, softmax, and two Lambda layers computing a CTC loss for training): without output names the
 * import fails naming the Lambda layer and both ways forward; with the output "softmax" the inference part
 * imports and predicts what {@link KerasReference} computes, in float32 and double, on sequences of two lengths
 * (the file's time axis is unknown: None); the file's clipping (SGD with clipnorm 5) comes installed.
 */
class FunctionalLambdaTest {

    private static final Logger log = LoggerFactory.getLogger(FunctionalLambdaTest.class);
    private static final Path H5 = Fixtures.resource("keras2.0-gru-clipnorm/results_model_0.h5");

    @Test
    void functional_withLambdaLayers_failsNamingTheLayerAndBothWaysForward() {
        assertThatThrownBy(() -> KerasImport.functional(H5))
                .isInstanceOf(KerasImportException.class)
                .hasMessageContaining("'lambda_1'")
                .hasMessageContaining("[lambda_1, ctc]")
                .hasMessageContaining("KerasImport.functional(path, \"softmax\")")
                .hasMessageContaining("KerasLayer.registerLambdaLayer(\"lambda_1\"");
    }

    @Test
    void functional_namedOutput_importsInferencePartAndMatchesKeras() {
        ComputationGraph graph = KerasImport.functional(H5, "softmax");
        assertThat(graph.getConfiguration().getNetworkInputs()).containsExactly("the_input");
        assertThat(graph.getConfiguration().getNetworkOutputs()).containsExactly("softmax");
        // the file's SGD with clipnorm 5 arrives installed: a ClippingUpdater on the GRU, a ClippingListener
        assertThat(graph.getListeners()).hasAtLeastOneElementOfType(ClippingListener.class);
        BaseLayer rnn = (BaseLayer) graph.getLayer("rnn").conf().getLayer();
        assertThat(rnn.getIUpdater()).isInstanceOf(ClippingUpdater.class);
        for (int time : new int[] {5, 11}) {
            double[][][] x = Fixtures.randomSequences(209 + time, 3, time, 13);
            double[][][] xr = Fixtures.roundedToFloat(x);
            double[][][] expected = new double[x.length][][];
            String g = "model_weights/rnn/rnn/";
            try (H5Reader w = new H5Reader(H5)) {
                double[][] bias = w.matrix(g + "bias:0");
                for (int b = 0; b < x.length; b++) {
                    expected[b] = KerasReference.softmax(KerasReference.gru(xr[b], null, w.matrix(g + "kernel:0"),
                            w.matrix(g + "recurrent_kernel:0"), bias, false, activation("tanh", 2),
                            activation("hard_sigmoid", 2), true, false));
                }
            }
            double errFloat = Fixtures.maxRelativeError(graph.outputSingle(Fixtures.nwc(x, DataType.FLOAT)), expected);
            ComputationGraph dbl = graph.convertDataType(DataType.DOUBLE);
            double errDouble = Fixtures.maxRelativeError(dbl.outputSingle(Fixtures.nwc(x, DataType.DOUBLE)),
                    expected);
            log.info("keras2.0-gru-clipnorm (softmax output), {} steps: max relative error float32 {}, double {}",
                    time, errFloat, errDouble);
            assertThat(errFloat).isLessThanOrEqualTo(SharedKerasFilesTest.FLOAT_TOLERANCE);
            assertThat(errDouble).isLessThanOrEqualTo(SharedKerasFilesTest.DOUBLE_TOLERANCE);
        }
    }

    @Test
    void functional_unknownOutputName_failsListingTheLayers() {
        assertThatThrownBy(() -> KerasImport.functional(H5, "output"))
                .isInstanceOf(KerasImportException.class)
                .hasMessageContaining("no layer named 'output'")
                .hasMessageContaining("softmax");
    }
}
