package org.dl4jclipping.rnn.layers;

import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * The GRU parameter (or gradient) arrays in the layout of {@link GRUParamInitializer}: four for the reset-after
 * variant, three (no {@code rb}) for reset-before.
 *
 * @param w  input weights [nIn, 3·nOut]
 * @param rw recurrent weights [nOut, 3·nOut]
 * @param b  input bias [1, 3·nOut]
 * @param rb recurrent bias [1, 3·nOut]; null in the reset-before variant
 */
record GRUWeights(INDArray w, INDArray rw, INDArray b, INDArray rb) {

    static GRUWeights of(Map<String, INDArray> byKey) {
        return new GRUWeights(byKey.get(GRUParamInitializer.INPUT_WEIGHT_KEY),
                byKey.get(GRUParamInitializer.RECURRENT_WEIGHT_KEY),
                byKey.get(GRUParamInitializer.BIAS_KEY),
                byKey.get(GRUParamInitializer.RECURRENT_BIAS_KEY));
    }

    long nOut() {
        return rw.size(0);
    }
}
