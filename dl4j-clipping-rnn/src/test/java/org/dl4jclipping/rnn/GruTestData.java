package org.dl4jclipping.rnn;

import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Deterministic inputs, labels and parameters for the GRU tests (no randomness that depends on ND4J's RNG). */
public final class GruTestData {

    private GruTestData() {
    }

    /** NCW input [mb, nIn, T] with x[b, i, t] = sin(0.37 t + 0.91 i + 1.3 b + phase). */
    public static INDArray input(DataType dt, int mb, int nIn, int steps, double phase) {
        INDArray x = Nd4j.create(dt, mb, nIn, steps);
        for (int b = 0; b < mb; b++) {
            for (int i = 0; i < nIn; i++) {
                for (int t = 0; t < steps; t++) {
                    x.putScalar(new int[] {b, i, t}, Math.sin(0.37 * t + 0.91 * i + 1.3 * b + phase));
                }
            }
        }
        return x;
    }

    /** One-hot labels [mb, nClasses, T]; the class of (b, t) is (b + 2 t) mod nClasses. */
    public static INDArray sequenceLabels(DataType dt, int mb, int nClasses, int steps) {
        INDArray y = Nd4j.create(dt, mb, nClasses, steps);
        for (int b = 0; b < mb; b++) {
            for (int t = 0; t < steps; t++) {
                y.putScalar(new int[] {b, (b + 2 * t) % nClasses, t}, 1.0);
            }
        }
        return y;
    }

    /** One-hot labels [mb, nClasses]; the class of b is b mod nClasses. */
    public static INDArray labels(DataType dt, int mb, int nClasses) {
        INDArray y = Nd4j.create(dt, mb, nClasses);
        for (int b = 0; b < mb; b++) {
            y.putScalar(b, b % nClasses, 1.0);
        }
        return y;
    }

    /** Sets every parameter (biases included) of a model to 0.8·sin(1.7 k + seed), k the flat index. */
    public static void deterministicParams(Model model, double seed) {
        INDArray p = model.params();
        INDArray values = Nd4j.create(p.dataType(), p.shape());
        for (long k = 0; k < p.length(); k++) {
            values.putScalar(k, 0.8 * Math.sin(1.7 * k + seed));
        }
        model.setParams(values);
    }
}
