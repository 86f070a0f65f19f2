package org.dl4jclipping.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * How a parameter array splits into units (output units), for unit-wise strategies such as AGC: DL4J stores
 * dense and recurrent weights as {@code [nIn, nOut]} (a unit is a column), convolution weights as
 * {@code [out, in, kh, kw]} (a unit is an output channel, a slice along dimension 0), and biases as
 * {@code [1, n]} (treated as one vector, as timm and Optax do for 1-D parameters).
 */
final class Units {

    private Units() {
    }

    static INDArray[] of(INDArray a) {
        int rank = a.rank();
        boolean vector = rank <= 1 || (rank == 2 && a.size(0) == 1) || a.length() == 0;
        if (vector) {
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
