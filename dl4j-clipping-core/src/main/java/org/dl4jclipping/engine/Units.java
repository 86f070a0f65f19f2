package org.dl4jclipping.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * How a parameter array splits into units (output units): the one definition used by AGC and by the
 * {@code UnitMaxNorm} weight constraint. Whether an array has units is decided by what it is, never by its shape:
 * <ul>
 *   <li>a <b>weight</b> of rank 2 (DL4J's dense, output, recurrent and embedding {@code [nIn, nOut]}): a unit is a
 *       column, the incoming weights of one output unit, also when {@code nIn = 1};</li>
 *   <li>a weight of rank 3 or more (convolution {@code [out, in, kh, kw]}): a unit is a slice along dimension 0,
 *       one output channel;</li>
 *   <li>anything else (biases {@code [1, n]}, BatchNorm's gamma and beta, rank 0 and 1): the whole array is one
 *       unit, as timm and Optax do for 1-D parameters.</li>
 * </ul>
 */
public final class Units {

    private Units() {
    }

    /** The unit views of {@code a} (no copies); {@code weight} says whether {@code a} is a weight. */
    public static INDArray[] of(INDArray a, boolean weight) {
        int rank = a.rank();
        if (!weight || rank <= 1 || a.length() == 0) {
            return new INDArray[] {a};
        }
        if (rank == 2) {
            INDArray[] cols = new INDArray[(int) a.size(1)];
            for (int j = 0; j < cols.length; j++) {
                cols[j] = a.get(NDArrayIndex.all(), NDArrayIndex.point(j));
            }
            return cols;
        }
        INDArray[] slices = new INDArray[(int) a.size(0)];
        for (int j = 0; j < slices.length; j++) {
            INDArrayIndex[] idx = new INDArrayIndex[rank];
            idx[0] = NDArrayIndex.point(j);
            for (int d = 1; d < rank; d++) {
                idx[d] = NDArrayIndex.all();
            }
            slices[j] = a.get(idx);
        }
        return slices;
    }
}
