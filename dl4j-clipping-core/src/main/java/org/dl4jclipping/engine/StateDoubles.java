package org.dl4jclipping.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Double-precision values kept in a strategy's state view whatever its data type: each value takes two elements,
 * {@code hi = (T) x} and {@code lo = (T) (x - hi)}, read back as {@code hi + lo}.
 *
 * <p>Why: in a DL4J network the state lives in the updater state, in the network's data type, and float32 is
 * DL4J's default. One float per value rounds a norm to 24 bits (so a stored norm no longer equals the norm it came
 * from: AutoClip clipped by 1e-6 where it must not) and stops a step count at 2^24. Two floats keep 48 bits: a
 * count is exact to 2^48 and a norm to about 4e-15 relative, so a float network's adaptive strategy behaves as a
 * double network's. In a double view {@code lo} is always 0 and the value is exact.
 *
 * <p>The pair is linear: averaging two states element-wise (ParallelWrapper and Spark parameter averaging average
 * the updater state) averages the values they hold, to within a float rounding of each half.
 */
public final class StateDoubles {

    private StateDoubles() {
    }

    /** The number of state elements that hold {@code values} doubles. */
    public static int size(int values) {
        return 2 * values;
    }

    /** Value number {@code k} of {@code state}. */
    public static double get(INDArray state, int k) {
        return state.getDouble(2L * k) + state.getDouble(2L * k + 1);
    }

    /** Stores {@code x} as value number {@code k} of {@code state}. */
    public static void put(INDArray state, int k, double x) {
        if (state.dataType() == DataType.DOUBLE) {
            state.putScalar(2L * k, x);
            state.putScalar(2L * k + 1, 0.0);
            return;
        }
        float hi = (float) x;
        float lo = Float.isFinite(hi) ? (float) (x - hi) : 0f;
        state.putScalar(2L * k, hi);
        state.putScalar(2L * k + 1, lo);
    }
}
