package org.dl4jclipping.rnn.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Identifies a recurrent layer's forward pass by its input, mask and initial state (the same objects, compared by
 * identity: DL4J makes new arrays for a new pass) and whether it was a training pass (which draws weight noise and
 * dropout). A CPU kernel's backward pass reuses what the forward pass stored when the key of that pass is the key of
 * the current one, and runs the forward pass again otherwise.
 */
record ForwardKey(INDArray input, INDArray mask, INDArray h0, INDArray c0, boolean training) {

    @Override
    public boolean equals(Object o) {
        return o instanceof ForwardKey k && k.input == input && k.mask == mask && k.h0 == h0 && k.c0 == c0
                && k.training == training;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(input);
    }
}
