package org.dl4jclipping.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.function.DoubleUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.keras.KerasReference.activation;

/**
 * Each real Keras file of src/test/resources/keras/ (see the PROVENANCE.md beside each) imports and predicts what
 * {@link KerasReference} computes from the file's own weights, read by dataset path: at most 1e-5 relative to the
 * output's scale in float32 (the network's default) and 1e-12 in double, on seeded standard-normal inputs.
 */
class SharedKerasFilesTest {

    private static final Logger log = LoggerFactory.getLogger(SharedKerasFilesTest.class);

    static final double FLOAT_TOLERANCE = 1e-5;
    static final double DOUBLE_TOLERANCE = 1e-12;

    /**
     * tf.keras 2.10 Sequential: [24, 36] -> 4 x GRU(96, tanh/sigmoid, reset_after, return_sequences)
     * -> GlobalAveragePooling1D -> Dense(25, relu) -> Dense(1).
     */
    @Test
    void tf2Forecaster_matchesKerasEquations_inFloatAndDouble() {
        Path h5 = Fixtures.resource("tf2-gru-forecaster/model_gru.h5");
        MultiLayerNetwork net = KerasImport.sequential(h5);
        double[][][] x = Fixtures.randomSequences(2410, 3, 24, 36);
        double[][][] expected = new double[x.length][][];
        double[][][] xr = Fixtures.roundedToFloat(x);
        String[] grus = {"gru/gru/gru_cell", "gru_1/gru_1/gru_cell_1", "gru_2/gru_2/gru_cell_2",
                "gru_3/gru_3/gru_cell_3"};
        try (H5Reader w = new H5Reader(h5)) {
            for (int b = 0; b < x.length; b++) {
                double[][] seq = xr[b];
                for (String g : grus) {
                    String p = "model_weights/" + g + "/";
                    seq = KerasReference.gru(seq, null, w.matrix(p + "kernel:0"), w.matrix(p + "recurrent_kernel:0"),
                            w.matrix(p + "bias:0"), true, activation("tanh", 2), activation("sigmoid", 2), true,
                            false);
                }
                double[][] pooled = KerasReference.averageOverTime(seq);
                double[][] hidden = KerasReference.dense(pooled, w.matrix("model_weights/dense/dense/kernel:0"),
                        w.vector("model_weights/dense/dense/bias:0"), activation("relu", 2));
                expected[b] = KerasReference.dense(hidden, w.matrix("model_weights/dense_1/dense_1/kernel:0"),
                        w.vector("model_weights/dense_1/dense_1/bias:0"), activation("linear", 2));
            }
        }
        checkBothTypes("tf2-gru-forecaster", net, x, expected);
    }

    /**
     * Keras 3.8 Sequential: [20, 17] -> GRU(64, reset_after) -> Dropout -> Dense(32, relu) -> Dense(3, softmax),
     * loss sparse_categorical_crossentropy.
     */
    @Test
    void keras3Classifier_matchesKerasEquations_inFloatAndDouble() {
        Path h5 = Fixtures.resource("keras3-gru-classifier/GRU_model.h5");
        MultiLayerNetwork net = KerasImport.sequential(h5);
        double[][][] x = Fixtures.randomSequences(380, 4, 20, 17);
        double[][][] xr = Fixtures.roundedToFloat(x);
        double[][][] expected = new double[x.length][][];
        String p = "model_weights/gru_4/sequential_4/gru_4/gru_cell/";
        try (H5Reader w = new H5Reader(h5)) {
            for (int b = 0; b < x.length; b++) {
                double[][] last = KerasReference.gru(xr[b], null, w.matrix(p + "kernel"),
                        w.matrix(p + "recurrent_kernel"),
                        w.matrix(p + "bias"), true, activation("tanh", 3), activation("sigmoid", 3), false, false);
                double[][] hidden = KerasReference.dense(last,
                        w.matrix("model_weights/dense_2/sequential_4/dense_2/kernel"),
                        w.vector("model_weights/dense_2/sequential_4/dense_2/bias"), activation("relu", 3));
                expected[b] = KerasReference.softmax(KerasReference.dense(hidden,
                        w.matrix("model_weights/dense_3/sequential_4/dense_3/kernel"),
                        w.vector("model_weights/dense_3/sequential_4/dense_3/bias"), activation("linear", 3)));
            }
        }
        checkBothTypes("keras3-gru-classifier", net, x, expected);

        // the file's loss, sparse_categorical_crossentropy, arrives as a loss layer: the score is Keras's loss,
        // mean over the batch of -log p[label], on the reference's probabilities
        int[] labels = {2, 0, 1, 2};
        double kerasLoss = 0;
        for (int b = 0; b < labels.length; b++) {
            kerasLoss -= Math.log(expected[b][0][labels[b]]) / labels.length;
        }
        INDArray y = Nd4j.createFromArray(new float[][] {{2}, {0}, {1}, {2}});
        MultiLayerNetwork dbl = net.convertDataType(DataType.DOUBLE);
        double score = dbl.score(new DataSet(Fixtures.nwc(x, DataType.DOUBLE), y.castTo(DataType.DOUBLE)));
        log.info("keras3-gru-classifier: DL4J score {} vs Keras loss {}", score, kerasLoss);
        assertThat(Math.abs(score - kerasLoss)).isLessThanOrEqualTo(DOUBLE_TOLERANCE * Math.abs(kerasLoss));
    }

    static void checkBothTypes(String what, MultiLayerNetwork net, double[][][] x, double[][][] expected) {
        double errFloat = Fixtures.maxRelativeError(net.output(Fixtures.nwc(x, DataType.FLOAT)), expected);
        MultiLayerNetwork dbl = net.convertDataType(DataType.DOUBLE);
        double errDouble = Fixtures.maxRelativeError(dbl.output(Fixtures.nwc(x, DataType.DOUBLE)), expected);
        log.info("{}: max relative error vs the double reference: float32 {}, double {}", what, errFloat, errDouble);
        assertThat(errFloat).as(what + " float32").isLessThanOrEqualTo(FLOAT_TOLERANCE);
        assertThat(errDouble).as(what + " double").isLessThanOrEqualTo(DOUBLE_TOLERANCE);
    }
}
