package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * A DL4J time-series mask [minibatch, time] as the per-example sequence lengths the native recurrent ops take.
 *
 * <p>Accepted: every row is ones followed by zeros (padding at the end), so that row {@code i} is exactly
 * "the first {@code len_i} steps". Anything else (a gap, padding at the start, a weight other than 0 or 1) has no
 * sequence-length form and fails with an {@link IllegalArgumentException} naming the layer, the row and step, and
 * what to do. The mask is small ([minibatch, time]); it is read on the host once per pass.
 */
final class SequenceLengths {

    private SequenceLengths() {
    }

    static INDArray of(INDArray mask, long mb, long steps, DataType type, String layerId, ArrayType ws,
                       LayerWorkspaceMgr mgr) {
        int[] lengths = lengths(mask, mb, steps, layerId);
        INDArray out = mgr.createUninitialized(ws, type, new long[] {mb}, 'c');
        for (int i = 0; i < mb; i++) {
            out.putScalar(i, lengths[i]);
        }
        return out;
    }

    /** The lengths as integers, checked as {@link #of} does. */
    static int[] lengths(INDArray mask, long mb, long steps, String layerId) {
        if (mask.rank() != 2 || mask.size(0) != mb || mask.size(1) != steps) {
            throw new IllegalArgumentException("NativeLSTM layer " + layerId + ": mask must have shape [" + mb + ", "
                    + steps + "] (minibatch, time), got " + Arrays.toString(mask.shape()));
        }
        double[][] m = mask.toDoubleMatrix();
        int[] lengths = new int[(int) mb];
        for (int i = 0; i < mb; i++) {
            int len = 0;
            while (len < steps && m[i][len] == 1.0) {
                len++;
            }
            for (int t = len; t < steps; t++) {
                if (m[i][t] != 0.0) {
                    throw new IllegalArgumentException("NativeLSTM layer " + layerId + ": mask row " + i
                            + " is not ones followed by zeros (" + m[i][t] + " at step " + t + "); the native op "
                            + "takes sequence lengths, so pad sequences at the end, or use DL4J's LSTM for masks "
                            + "with gaps or weights");
                }
            }
            lengths[i] = len;
        }
        return lengths;
    }
}
