package org.dl4jclipping.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.function.DoubleUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.keras.KerasReference.activation;

/**
 * The GRU variants no real file has (reset_after=false with relu and Keras 2's hard_sigmoid, go_backwards,
 * Masking with padding before and after, Keras 3's hard_sigmoid and weight paths, linear activation, the last
 * output, Bidirectional with each merge mode, architecture JSON plus a weights-only file, a Keras 3 functional
 * model with stacked GRUs and Keras 3's inbound nodes), written in Keras's
 * HDF5 layout by src/test/python/make_keras_variants.py (seeded weights, committed under
 * resources/keras/variants): each imports and predicts what {@link KerasReference} computes from the datasets,
 * within {@link SharedKerasFilesTest#FLOAT_TOLERANCE} in float32 and {@link SharedKerasFilesTest#DOUBLE_TOLERANCE}
 * in double.
 *
 * <p>Inputs: 4 seeded sequences of 7 steps and 3 features; example 1 padded with 2 mask-value steps after,
 * example 2 with 3 before, example 3 with 1 before and 2 after (the padding Keras's pad_sequences makes).
 */
class GruVariantsTest {

    private static final int TIME = 7;
    private static final int FEATURES = 3;

    /** Seeded inputs with the padding of the class comment, in the mask value. */
    static double[][][] paddedInputs(long seed, double maskValue) {
        double[][][] x = Fixtures.randomSequences(seed, 4, TIME, FEATURES);
        int[][] padded = {{}, {5, 6}, {0, 1, 2}, {0, 5, 6}};
        for (int b = 0; b < padded.length; b++) {
            for (int t : padded[b]) {
                java.util.Arrays.fill(x[b][t], maskValue);
            }
        }
        return x;
    }

    static boolean[] mask(double[][] seq, double maskValue) {
        boolean[] m = new boolean[seq.length];
        for (int t = 0; t < seq.length; t++) {
            for (double v : seq[t]) {
                m[t] |= v != maskValue;
            }
        }
        return m;
    }

    @Test
    void maskedBackwardsResetBefore_reluAndKeras2HardSigmoid_matchesKeras() {
        Path h5 = Fixtures.resource("variants/masked_backwards_reset_before.h5");
        MultiLayerNetwork net = KerasImport.sequential(h5);
        double[][][] x = paddedInputs(11, 0.0);
        double[][][] xr = Fixtures.roundedToFloat(x);
        double[][][] expected = new double[x.length][][];
        try (H5Reader w = new H5Reader(h5)) {
            String g = "model_weights/gru/gru/gru_cell/";
            for (int b = 0; b < x.length; b++) {
                double[][] seq = KerasReference.gru(xr[b], mask(xr[b], 0.0), w.matrix(g + "kernel:0"),
                        w.matrix(g + "recurrent_kernel:0"), w.matrix(g + "bias:0"), false, activation("relu", 2),
                        activation("hard_sigmoid", 2), true, true);
                expected[b] = KerasReference.dense(seq,
                        w.matrix("model_weights/time_distributed/time_distributed/kernel:0"),
                        w.vector("model_weights/time_distributed/time_distributed/bias:0"), activation("tanh", 2));
            }
        }
        SharedKerasFilesTest.checkBothTypes("masked_backwards_reset_before", net, x, expected);
    }

    /**
     * Keras 2.0-style Sequential without an InputLayer, the input shape on the Masking layer: the Masking layer
     * folds into the GRU and its shape moves on; the network predicts exactly what the file with an InputLayer
     * gives.
     */
    @Test
    @SuppressWarnings("unchecked")
    void maskingAsFirstLayer_withoutInputLayer_predictsTheSame(@TempDir Path dir) throws Exception {
        Path h5 = Fixtures.resource("variants/masked_backwards_reset_before.h5");
        String config;
        try (KerasFile file = KerasFile.open(h5)) {
            config = file.modelConfigJson();
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> model = json.readValue(config, Map.class);
        model.put("keras_version", "2.10.0");
        List<Map<String, Object>> layers = (List<Map<String, Object>>) ((Map<String, Object>) model.get("config"))
                .get("layers");
        Map<String, Object> input = layers.remove(0);
        ((Map<String, Object>) layers.get(0).get("config")).put("batch_input_shape",
                ((Map<String, Object>) input.get("config")).get("batch_input_shape"));
        Path modelJson = dir.resolve("model.json");
        Files.writeString(modelJson, json.writeValueAsString(model));
        INDArray x = Fixtures.nwc(paddedInputs(17, 0.0), DataType.FLOAT);
        assertThat(KerasImport.sequential(modelJson, h5).output(x)).isEqualTo(KerasImport.sequential(h5).output(x));
    }

    @Test
    void keras3MaskedLastLinear_keras3HardSigmoidAndPaths_matchesKeras() {
        Path h5 = Fixtures.resource("variants/keras3_masked_last_linear.h5");
        MultiLayerNetwork net = KerasImport.sequential(h5);
        double[][][] x = paddedInputs(12, -1.0);
        double[][][] xr = Fixtures.roundedToFloat(x);
        double[][][] expected = new double[x.length][][];
        try (H5Reader w = new H5Reader(h5)) {
            String g = "model_weights/gru/sequential/gru/gru_cell/";
            for (int b = 0; b < x.length; b++) {
                double[][] last = KerasReference.gru(xr[b], mask(xr[b], -1.0), w.matrix(g + "kernel"),
                        w.matrix(g + "recurrent_kernel"), w.matrix(g + "bias"), true, activation("linear", 3),
                        activation("hard_sigmoid", 3), false, false);
                expected[b] = KerasReference.dense(last, w.matrix("model_weights/dense/sequential/dense/kernel"),
                        w.vector("model_weights/dense/sequential/dense/bias"), activation("linear", 3));
            }
        }
        SharedKerasFilesTest.checkBothTypes("keras3_masked_last_linear", net, x, expected);
    }

    @Test
    void jsonPlusWeights_backwardsLastOutput_matchesKeras() {
        Path h5 = Fixtures.resource("variants/backwards_last_weights.h5");
        MultiLayerNetwork net = KerasImport.sequential(Fixtures.resource("variants/backwards_last_weights.json"), h5);
        double[][][] x = Fixtures.randomSequences(13, 4, TIME, FEATURES);
        double[][][] xr = Fixtures.roundedToFloat(x);
        double[][][] expected = new double[x.length][][];
        try (H5Reader w = new H5Reader(h5)) {
            String g = "gru/gru/gru_cell/";
            for (int b = 0; b < x.length; b++) {
                double[][] last = KerasReference.gru(xr[b], null, w.matrix(g + "kernel:0"),
                        w.matrix(g + "recurrent_kernel:0"), w.matrix(g + "bias:0"), true, activation("tanh", 2),
                        activation("sigmoid", 2), false, true);
                expected[b] = KerasReference.softmax(KerasReference.dense(last, w.matrix("dense/dense/kernel:0"),
                        w.vector("dense/dense/bias:0"), activation("linear", 2)));
            }
        }
        SharedKerasFilesTest.checkBothTypes("backwards_last_weights (json + weights)", net, x, expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"concat", "sum", "mul", "ave"})
    void maskedBidirectional_eachMergeMode_matchesKeras(String mode) {
        Path h5 = Fixtures.resource("variants/bidirectional_" + mode + ".h5");
        MultiLayerNetwork net = KerasImport.sequential(h5);
        double[][][] x = paddedInputs(14, 0.0);
        double[][][] xr = Fixtures.roundedToFloat(x);
        double[][][] expected = new double[x.length][][];
        try (H5Reader w = new H5Reader(h5)) {
            for (int b = 0; b < x.length; b++) {
                double[][] merged = bidirectional(w, "model_weights/bidirectional/bidirectional/", xr[b],
                        mask(xr[b], 0.0), true, true, activation("sigmoid", 2), mode);
                expected[b] = KerasReference.dense(merged,
                        w.matrix("model_weights/time_distributed/time_distributed/kernel:0"),
                        w.vector("model_weights/time_distributed/time_distributed/bias:0"), activation("linear", 2));
            }
        }
        SharedKerasFilesTest.checkBothTypes("bidirectional_" + mode, net, x, expected);
    }

    @Test
    void bidirectionalLastOutput_resetBeforeHardSigmoid_matchesKeras() {
        Path h5 = Fixtures.resource("variants/bidirectional_last.h5");
        MultiLayerNetwork net = KerasImport.sequential(h5);
        double[][][] x = Fixtures.randomSequences(15, 4, TIME, FEATURES);
        double[][][] xr = Fixtures.roundedToFloat(x);
        double[][][] expected = new double[x.length][][];
        try (H5Reader w = new H5Reader(h5)) {
            for (int b = 0; b < x.length; b++) {
                double[][] merged = bidirectional(w, "model_weights/bidirectional/bidirectional/", xr[b], null,
                        false, false, activation("hard_sigmoid", 2), "concat");
                expected[b] = KerasReference.dense(merged, w.matrix("model_weights/dense/dense/kernel:0"),
                        w.vector("model_weights/dense/dense/bias:0"), activation("linear", 2));
            }
        }
        SharedKerasFilesTest.checkBothTypes("bidirectional_last", net, x, expected);
    }

    @Test
    void keras3Functional_stackedGrus_matchesKeras() {
        Path h5 = Fixtures.resource("variants/keras3_functional_stacked.h5");
        ComputationGraph graph = KerasImport.functional(h5);
        double[][][] x = Fixtures.randomSequences(16, 4, TIME, FEATURES);
        double[][][] xr = Fixtures.roundedToFloat(x);
        double[][][] expected = new double[x.length][][];
        try (H5Reader w = new H5Reader(h5)) {
            String g = "model_weights/gru/gru/gru_cell/";
            String g1 = "model_weights/gru_1/gru_1/gru_cell/";
            for (int b = 0; b < x.length; b++) {
                double[][] seq = KerasReference.gru(xr[b], null, w.matrix(g + "kernel"),
                        w.matrix(g + "recurrent_kernel"),
                        w.matrix(g + "bias"), false, activation("tanh", 3), activation("hard_sigmoid", 3), true, false);
                double[][] last = KerasReference.gru(seq, null, w.matrix(g1 + "kernel"),
                        w.matrix(g1 + "recurrent_kernel"), w.matrix(g1 + "bias"), true, activation("tanh", 3),
                        activation("sigmoid", 3), false, false);
                expected[b] = KerasReference.softmax(KerasReference.dense(last,
                        w.matrix("model_weights/dense/dense/kernel"), w.vector("model_weights/dense/dense/bias"),
                        activation("linear", 3)));
            }
        }
        double errFloat = Fixtures.maxRelativeError(graph.outputSingle(Fixtures.nwc(x, DataType.FLOAT)), expected);
        double errDouble = Fixtures.maxRelativeError(graph.convertDataType(DataType.DOUBLE)
                .outputSingle(Fixtures.nwc(x, DataType.DOUBLE)), expected);
        org.slf4j.LoggerFactory.getLogger(GruVariantsTest.class).info("keras3_functional_stacked: max relative error"
                + " vs the double reference: float32 {}, double {}", errFloat, errDouble);
        assertThat(errFloat).isLessThanOrEqualTo(SharedKerasFilesTest.FLOAT_TOLERANCE);
        assertThat(errDouble).isLessThanOrEqualTo(SharedKerasFilesTest.DOUBLE_TOLERANCE);
    }

    /**
     * Keras's Bidirectional: the forward GRU, the backward copy run with go_backwards (its output sequence
     * reversed back), merged.
     */
    private static double[][] bidirectional(H5Reader w, String group, double[][] seq, boolean[] mask,
                                            boolean resetAfter, boolean returnSequences,
                                            DoubleUnaryOperator recAct, String mode) {
        String f = group + "forward_gru/gru_cell_1/";
        String k = group + "backward_gru/gru_cell_2/";
        double[][] fwd = KerasReference.gru(seq, mask, w.matrix(f + "kernel:0"), w.matrix(f + "recurrent_kernel:0"),
                w.matrix(f + "bias:0"), resetAfter, activation("tanh", 2), recAct, returnSequences, false);
        double[][] bwd = KerasReference.gru(seq, mask, w.matrix(k + "kernel:0"), w.matrix(k + "recurrent_kernel:0"),
                w.matrix(k + "bias:0"), resetAfter, activation("tanh", 2), recAct, returnSequences, true);
        double[][] out = new double[fwd.length][];
        for (int t = 0; t < fwd.length; t++) {
            double[] a = fwd[t];
            double[] c = bwd[returnSequences ? fwd.length - 1 - t : t];
            int u = a.length;
            out[t] = new double[mode.equals("concat") ? 2 * u : u];
            for (int j = 0; j < u; j++) {
                switch (mode) {
                    case "concat":
                        out[t][j] = a[j];
                        out[t][u + j] = c[j];
                        break;
                    case "sum":
                        out[t][j] = a[j] + c[j];
                        break;
                    case "mul":
                        out[t][j] = a[j] * c[j];
                        break;
                    default:
                        out[t][j] = (a[j] + c[j]) / 2;
                }
            }
        }
        return out;
    }
}
