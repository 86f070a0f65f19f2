package org.dl4jclipping.keras;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keras's own numbers: RTNeural's GRU test data (resources/keras/rtneural-gru, see its PROVENANCE.md) holds a
 * tf.keras model (TimeDistributed(Dense(8, tanh)) -> GRU(8, reset_after) -> Dense(8, sigmoid) -> Dense(1)), the
 * input 10 sin(0.1 pi n) for n = 0..99 and the output {@code model.predict} gave. The model, rebuilt as Keras
 * JSON plus a weights file by src/test/python/make_rtneural_keras.py, imports through
 * {@link KerasImport#sequential(Path, Path)} and reproduces that output within 1e-6 (absolute; the outputs are
 * about 0.1 in size) in float32 and in double.
 */
class RtNeuralKerasOutputTest {

    private static final Logger log = LoggerFactory.getLogger(RtNeuralKerasOutputTest.class);
    static final double TOLERANCE = 1e-6;

    @Test
    void importedGru_reproducesKerasPredict_within1e6() throws IOException {
        MultiLayerNetwork net = KerasImport.sequential(Fixtures.resource("rtneural-gru/gru_keras_model.json"),
                Fixtures.resource("rtneural-gru/gru_keras_weights.h5"));
        double[] x = column(Fixtures.resource("rtneural-gru/gru_x_python.csv"));
        double[] y = column(Fixtures.resource("rtneural-gru/gru_y_python.csv"));
        assertThat(x).hasSize(100);
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            MultiLayerNetwork n = type == DataType.FLOAT ? net : net.convertDataType(type);
            INDArray in = Nd4j.create(x, new long[] {1, x.length, 1}, 'c').castTo(type);
            INDArray out = n.output(in);
            assertThat(out.shape()).containsExactly(1, x.length, 1);
            double worst = 0;
            for (int t = 0; t < x.length; t++) {
                worst = Math.max(worst, Math.abs(out.getDouble(0, t, 0) - y[t]));
            }
            log.info("rtneural-gru: max |DL4J - Keras predict| over 100 steps, {}: {}", type, worst);
            assertThat(worst).as(type.toString()).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    private static double[] column(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().filter(l -> !l.isBlank()).mapToDouble(Double::parseDouble).toArray();
    }
}
