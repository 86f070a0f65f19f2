package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Keras GRU weights to the GRU's parameters, on arrays whose every value says where it came from: value
 * 100·block + column-within-block (+ 1000·row), so the expected position of each is known exactly. Keras's
 * blocks are z (0), r (1), h (2); ours r, z, n.
 */
class GruWeightsTest {

    private static final int U = 2;

    /** [rows, 3u] with value 1000·row + 100·block + column within the block. */
    private static INDArray tagged(int rows) {
        INDArray a = Nd4j.create(DataType.DOUBLE, rows, 3 * U);
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < 3 * U; c++) {
                a.putScalar(i, c, 1000 * i + 100 * (c / U) + c % U);
            }
        }
        return a;
    }

    private static Map<String, INDArray> keras(INDArray bias) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("gru/gru_cell/kernel:0", tagged(3));
        m.put("gru/gru_cell/recurrent_kernel:0", tagged(U));
        if (bias != null) {
            m.put("gru/gru_cell/bias:0", bias);
        }
        return m;
    }

    @Test
    void toParams_resetAfter_reordersBlocksAndSplitsBiasRows() throws InvalidKerasConfigurationException {
        Map<String, INDArray> p = GruWeights.toParams(keras(tagged(2)), U, true, true, "gru");
        // our column 0..1 = Keras r (block 1), 2..3 = Keras z (block 0), 4..5 = Keras h (block 2)
        assertThat(p.get("W").getDouble(2, 0)).isEqualTo(2100.0);
        assertThat(p.get("W").getDouble(2, 3)).isEqualTo(2001.0);
        assertThat(p.get("W").getDouble(0, 5)).isEqualTo(201.0);
        assertThat(p.get("RW").getDouble(1, 1)).isEqualTo(1101.0);
        assertThat(p.get("b").toDoubleVector()).containsExactly(100, 101, 0, 1, 200, 201);
        assertThat(p.get("rb").toDoubleVector()).containsExactly(1100, 1101, 1000, 1001, 1200, 1201);
    }

    @Test
    void toParams_resetBefore_oneBiasNoRecurrentBias() throws InvalidKerasConfigurationException {
        Map<String, INDArray> p = GruWeights.toParams(keras(tagged(1).reshape(3 * U)), U, false, true, "gru");
        assertThat(p).containsOnlyKeys("W", "RW", "b");
        assertThat(p.get("b").toDoubleVector()).containsExactly(100, 101, 0, 1, 200, 201);
    }

    @Test
    void toParams_withoutBias_zeroBiases() throws InvalidKerasConfigurationException {
        Map<String, INDArray> p = GruWeights.toParams(keras(null), U, true, false, "gru");
        assertThat(p.get("b").sumNumber().doubleValue()).isZero();
        assertThat(p.get("rb").sumNumber().doubleValue()).isZero();
        assertThat(p.get("b").shape()).containsExactly(1, 3 * U);
    }

    @Test
    void toParams_wrongBiasShape_failsNamingLayerAndShapes() {
        assertThatThrownBy(() -> GruWeights.toParams(keras(tagged(1).reshape(3 * U)), U, true, true, "gru_7"))
                .isInstanceOf(InvalidKerasConfigurationException.class)
                .hasMessageContaining("Keras GRU 'gru_7': bias (reset_after=true) has shape [6], expected [2, 6]");
    }

    @Test
    void toParams_missingDataset_failsListingWhatIsThere() {
        Map<String, INDArray> m = keras(tagged(2));
        m.remove("gru/gru_cell/recurrent_kernel:0");
        assertThatThrownBy(() -> GruWeights.toParams(m, U, true, true, "gru"))
                .isInstanceOf(InvalidKerasConfigurationException.class)
                .hasMessageContaining("expected one dataset named 'recurrent_kernel'")
                .hasMessageContaining("gru/gru_cell/kernel:0");
    }
}
