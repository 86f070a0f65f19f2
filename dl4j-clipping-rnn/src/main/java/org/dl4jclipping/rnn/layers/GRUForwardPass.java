package org.dl4jclipping.rnn.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The arrays of one GRU forward pass over a whole sequence, in time-major 'c' order: row block {@code t}
 * (rows {@code t·mb .. (t+1)·mb}) of each 2-D array belongs to time step {@code t}.
 *
 * @param x          input, [T·mb, nIn]
 * @param preAct     gate pre-activations (r, z, n column blocks), [T·mb, 3·nOut]; the same array as
 *                   {@code act} when the pass was run for inference only
 * @param act        gate activations r, z, n, [T·mb, 3·nOut]
 * @param recurrentN the candidate's recurrent term for every step, [T·mb, nOut] (one step's worth for inference):
 *                   {@code h·RW_n + b_hn} when {@code resetAfter}, {@code r ⊙ h} (the input of {@code RW_n})
 *                   otherwise
 * @param hidden     hidden states, [(T+1)·mb, nOut]; block 0 is the initial state, block t+1 the output of step t
 * @param mask       time-major mask, [T·mb, 1], or null
 * @param minibatch  mb
 * @param steps      T
 * @param resetAfter the variant the pass ran
 */
record GRUForwardPass(INDArray x, INDArray preAct, INDArray act, INDArray recurrentN, INDArray hidden,
                      INDArray mask, long minibatch, long steps, boolean resetAfter) {

    /** Rows of time step {@code t} of a time-major 2-D array. */
    INDArray step(INDArray timeMajor, long t) {
        return GRUKernel.rows(timeMajor, t * minibatch, (t + 1) * minibatch);
    }

    /** Hidden states h_0 .. h_{T-1} (the inputs of the recurrent GEMMs), [T·mb, nOut]. */
    INDArray previousHidden() {
        return GRUKernel.rows(hidden, 0, steps * minibatch);
    }

    /** Hidden states h_1 .. h_T (the outputs), [T·mb, nOut]. */
    INDArray outputs() {
        return GRUKernel.rows(hidden, minibatch, (steps + 1) * minibatch);
    }

    /** The last hidden state h_T, [mb, nOut]. */
    INDArray lastHidden() {
        return GRUKernel.rows(hidden, steps * minibatch, (steps + 1) * minibatch);
    }
}
