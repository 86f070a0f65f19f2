package org.dl4jclipping.rnn.layers;

import org.dl4jclipping.rnn.layers.Gemm.Mat;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * The GRU's forward and backward passes on the CPU, with no ND4J call inside the time loop (layout and shared
 * steps in {@link RecurrentCpuKernel}); gate blocks r, z, n of {@code W} [nIn, 3n], {@code RW} [n, 3n], {@code b}
 * (and, reset-after only, {@code rb}) [3n]. This class holds what both variants of
 * {@link org.dl4jclipping.rnn.conf.GRU} share: the copies in and out, the mask, the biases, the input projections
 * {@code A = X·W} of all steps before the time loop, and the bias sums and weight GEMMs after the backward loop. The
 * time loops, where the variants differ, are {@link GruResetAfterCpuKernel}'s and {@link GruResetBeforeCpuKernel}'s.
 *
 * <p>Order of use: {@link #forward}, then (for training) {@link #backward} of that same pass; the forward pass keeps
 * in the kernel's memory what the backward pass reads (the gate activations r, z, n, the candidate's recurrent term
 * and the hidden states).
 */
abstract sealed class GruCpuKernel extends RecurrentCpuKernel permits GruResetAfterCpuKernel, GruResetBeforeCpuKernel {

    /** Gate activations r, z, n of every step (after the forward pass), [T·mb, 3n]. */
    static final int GATES = FIRST_FREE;
    /** One step's recurrent products, [mb, 3n]. */
    static final int REC = FIRST_FREE + 1;
    /** The candidate's recurrent term of every step, [T·mb, n]: {@code h·RW_n + rb_n} or {@code r ⊙ h}. */
    static final int REC_N = FIRST_FREE + 2;
    /** Gate errors dA of every step, [T·mb, 3n]. */
    static final int DA = FIRST_FREE + 3;
    /** Errors of the recurrent products: reset-after [T·mb, 3n]; reset-before one step's dL/d(r ⊙ h), [mb, n]. */
    static final int DR = FIRST_FREE + 4;
    static final int MASK = FIRST_FREE + 5;

    /** The mask of the latest forward pass, [mb·T] (example-major), or null. */
    HostArray mask;
    /** b (and rb from index 3n, reset-after) of the latest forward pass. */
    double[] bias = new double[0];
    /** Bias gradient sums of the backward pass, same layout as {@link #bias}. */
    double[] sums = new double[0];

    GruCpuKernel(ScalarActivation act, ScalarActivation gate) {
        super(FIRST_FREE + 6, act, gate);
    }

    /** The kernel of one variant: reset gate after ({@code true}) or before the candidate's recurrent product. */
    static GruCpuKernel create(ScalarActivation act, ScalarActivation gate, boolean resetAfter) {
        return resetAfter ? new GruResetAfterCpuKernel(act, gate) : new GruResetBeforeCpuKernel(act, gate);
    }

    /**
     * Runs the forward pass and keeps what {@link #backward} needs.
     *
     * @param input  [mb, nIn, T] (NCW) or [mb, T, nIn] (NWC), the layer's data type
     * @param w      W [nIn, 3n], contiguous; {@code rw} [n, 3n] and {@code b} [3n] likewise
     * @param rb     rb [3n], contiguous, for the reset-after variant; null for reset-before
     * @param h0     initial hidden state [mb, n], or null for zeros
     * @param maskIn mask [mb, T], or null
     * @param out    the output to fill, [mb, n, T] (NCW) or [mb, T, n] (NWC)
     * @param hLast  receives h_T [mb, n], or null
     */
    final void forward(INDArray input, boolean ncw, INDArray w, INDArray rw, INDArray b, INDArray rb, INDArray h0,
                       INDArray maskIn, INDArray out, INDArray hLast) {
        HostArray x = begin(input, ncw, rw);
        int g3 = 3 * n;
        int rows = steps * mb;
        HostArray a = memory.get(GATES, type, (long) rows * g3);
        HostArray h = hidden(h0);
        mask = null;
        if (maskIn != null) {
            mask = memory.get(MASK, type, (long) mb * steps);
            KernelMemory.view(mask, 0, mb, steps).assign(maskIn);
        }
        if (bias.length != 2 * g3) {
            bias = new double[2 * g3];
            sums = new double[2 * g3];
        }
        load(b, bias, 0);
        if (rb != null) {
            load(rb, bias, g3);
        }
        Gemm.gemm(rows, g3, nIn, 1.0, Mat.rowMajor(x, nIn), 0, false, Mat.of(HostArray.of(w), w), 0, false, 0.0,
                Mat.rowMajor(a, g3), 0);
        recurrence(a, memory.get(REC, type, (long) mb * g3), memory.get(REC_N, type, (long) rows * n), h, rw,
                h0 == null);
        writeOutput(h, out, ncw);
        if (hLast != null) {
            hLast.assign(KernelMemory.view(h, (long) steps * mb * n, mb, n));
        }
    }

    /**
     * The time loop of the forward pass: on entry {@code a} holds {@code X·W} (biases not added), {@code h} block 0
     * the initial state; on exit {@code a} holds r, z, n, {@code q} the candidate's recurrent term and {@code h}
     * every state. {@code zeroInitial}: the initial state is zero (the first recurrent GEMM can be skipped).
     */
    abstract void recurrence(HostArray a, HostArray rec, HostArray q, HostArray h, INDArray rw, boolean zeroInitial);

    /**
     * The backward pass of the latest {@link #forward}.
     *
     * @param epsilon dL/d(output), the output's shape
     * @param first   first step that gets a gradient (0, or T − the truncated-BPTT backward length)
     * @param dW      gradient view of W (written); {@code dRW} and {@code db} likewise
     * @param drb     gradient view of rb (written) for reset-after; null for reset-before
     * @param epsOut  receives dL/d(input), the input's shape
     */
    final void backward(INDArray epsilon, boolean ncw, int first, INDArray w, INDArray rw, INDArray dW, INDArray dRW,
                        INDArray db, INDArray drb, INDArray epsOut) {
        int g3 = 3 * n;
        HostArray x = memory.get(X, type, 0);
        HostArray a = memory.get(GATES, type, 0);
        HostArray q = memory.get(REC_N, type, 0);
        HostArray h = memory.get(HIDDEN, type, 0);
        HostArray dh = epsilonTimeMajor(epsilon, ncw);
        HostArray dA = memory.get(DA, type, (long) steps * mb * g3);
        Arrays.fill(sums, 0.0);
        HostArray dR = backRecurrence(a, q, h, dh, dA, rw, first);
        storeSums(sums, 0, db);
        if (drb != null) {
            storeSums(sums, g3, drb);
        }
        finishGradients(x, h, q, dA, dR, first, w, dW, dRW, epsOut, ncw);
    }

    /**
     * The time loop of the backward pass, from the last step down to {@code first}: fills {@code dA} (gate errors of
     * the input projections), {@link #sums} and propagates {@code dh} (dL/dh of every step, accumulated in place).
     *
     * @return the errors of the recurrent products for {@link #finishGradients}
     */
    abstract HostArray backRecurrence(HostArray a, HostArray q, HostArray h, HostArray dh, HostArray dA,
                                      INDArray rw, int first);

    /**
     * {@code dW}, {@code dRW} and the input gradient after the backward loop.
     *
     * @param q  the candidate's recurrent terms of the forward pass
     * @param dR what {@link #backRecurrence} returned
     */
    abstract void finishGradients(HostArray x, HostArray h, HostArray q, HostArray dA, HostArray dR,
                                          int first, INDArray w, INDArray dW, INDArray dRW, INDArray epsOut,
                                          boolean ncw);
}
