package org.dl4jclipping.keras.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Checks that a [batch, time] mask is one run of valid steps per example (padding before, after or both: what
 * {@code pad_sequences} makes) and finds the last valid step. A gap between valid steps is refused: Keras carries
 * the state across masked steps, a DL4J recurrent layer resets it to zero, and the two agree only without gaps.
 */
final class MaskRuns {

    private MaskRuns() {
    }

    /** Per example, the index of the last valid step (mask &ne; 0), or -1 when none; fails on a gap. */
    static int[] lastValid(INDArray mask, String layerName) {
        if (mask.rank() != 2) {
            throw new IllegalStateException("Keras recurrent layer '" + layerName + "': mask must be [batch, time],"
                    + " got shape " + java.util.Arrays.toString(mask.shape()));
        }
        double[][] m = mask.toDoubleMatrix();
        int[] last = new int[m.length];
        for (int b = 0; b < m.length; b++) {
            int first = -1;
            last[b] = -1;
            for (int t = 0; t < m[b].length; t++) {
                if (m[b][t] != 0.0) {
                    if (first < 0) {
                        first = t;
                    } else if (last[b] != t - 1) {
                        throw new IllegalStateException("Keras recurrent layer '" + layerName + "': the mask of"
                                + " example " + b + " has a gap (valid at step " + last[b] + " and again at step " + t
                                + "); Keras carries the state across masked steps, the imported layer resets it,"
                                + " so only padding before and/or after the sequence is supported");
                    }
                    last[b] = t;
                }
            }
        }
        return last;
    }
}
