package org.dl4jclipping.rnn.layers;

import org.dl4jclipping.rnn.layers.Gemm.Mat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the CPU LSTM and GRU kernels share: the time-major layout, the copies between DL4J's sequence arrays and it,
 * and the GEMMs over all time steps at both ends of a pass.
 *
 * <p>Layout: a time-major matrix has {@code T·mb} rows, row {@code t·mb + b} for example {@code b} at step
 * {@code t}; state matrices have one more block of {@code mb} rows in front (block 0 the initial state, block
 * {@code t + 1} the state after step {@code t}), so that block {@code t} is the state a step starts from. A pass
 * costs one ND4J call to copy its input in and one to copy its output out (both layouts, NCW [mb, size, T] and NWC
 * [mb, T, size]); in between, the time loop calls only BLAS and plain Java loops over the arrays' memory.
 *
 * <p>Float and double: the element-wise arithmetic runs in double and is rounded once when stored (so a float
 * kernel is at least as exact as the same equations in float).
 */
abstract class RecurrentCpuKernel {

    /**
     * System property that turns the CPU kernels off when set to {@code false} (the layers then run ND4J's ops, their
     * device path, on the CPU too); read when a layer is created.
     */
    static final String PROPERTY = "org.dl4jclipping.rnn.cpuKernel";

    /** Slots of {@link #memory} that every kernel uses; a subclass numbers its own from {@link #FIRST_FREE}. */
    static final int X = 0;
    static final int HIDDEN = 1;
    static final int DH = 2;
    static final int DX = 3;
    static final int FIRST_FREE = 4;

    final KernelMemory memory;
    final ScalarActivation act;
    final ScalarActivation gate;

    // Shape and type of the latest forward pass.
    DataType type;
    int steps;
    int mb;
    int nIn;
    int n;
    boolean exact;

    RecurrentCpuKernel(int slots, ScalarActivation act, ScalarActivation gate) {
        this.memory = new KernelMemory(slots);
        this.act = act;
        this.gate = gate;
    }

    /**
     * Whether a layer created now runs the CPU kernel: on ND4J's CPU backend, with both activations in
     * {@link ScalarActivation}, unless {@value #PROPERTY} is {@code false}. On a GPU backend the arrays live in device
     * memory, where Java loops cannot reach them: the layers keep their ND4J op path there.
     */
    static boolean available(ScalarActivation act, ScalarActivation gate) {
        return act != null && gate != null && !"false".equalsIgnoreCase(System.getProperty(PROPERTY))
                && Nd4j.getEnvironment().isCPU();
    }

    /** {@code a} itself when contiguous, else a contiguous copy (the kernels read parameters through BLAS). */
    static INDArray contiguous(INDArray a) {
        return a.length() <= 1 || a.elementWiseStride() == 1 ? a : a.dup(a.ordering());
    }

    /** Records the shape of a pass and copies its input into the time-major X [T·mb, nIn]. */
    final HostArray begin(INDArray input, boolean ncw, INDArray rw) {
        type = rw.dataType();
        exact = type != DataType.FLOAT;
        mb = (int) input.size(0);
        steps = (int) (ncw ? input.size(2) : input.size(1));
        nIn = (int) (ncw ? input.size(1) : input.size(2));
        n = (int) rw.size(0);
        HostArray x = memory.get(X, type, (long) steps * mb * nIn);
        gather(input, ncw, x, nIn);
        return x;
    }

    /** The hidden-state matrix H [(T+1)·mb, n] with block 0 set to {@code h0} (zeros when null). */
    final HostArray hidden(INDArray h0) {
        return stateWithInitial(HIDDEN, h0);
    }

    final HostArray stateWithInitial(int slot, INDArray initial) {
        HostArray s = memory.get(slot, type, (long) (steps + 1) * mb * n);
        if (initial == null) {
            for (int k = 0; k < mb * n; k++) {
                s.set(k, 0.0);
            }
        } else {
            KernelMemory.view(s, 0, mb, n).assign(initial);
        }
        return s;
    }

    /** Copies the outputs h_1 .. h_T (blocks 1..T of H) into {@code out} ([mb, n, T] NCW or [mb, T, n] NWC). */
    final void writeOutput(HostArray h, INDArray out, boolean ncw) {
        scatter(h, (long) mb * n, n, out, ncw);
    }

    /** dL/dh of every step, time-major [T·mb, n], from DL4J's epsilon. */
    final HostArray epsilonTimeMajor(INDArray epsilon, boolean ncw) {
        HostArray dh = memory.get(DH, type, (long) steps * mb * n);
        INDArray e = epsilon.dataType() == type ? epsilon : epsilon.castTo(type);
        gather(e, ncw, dh, n);
        return dh;
    }

    /**
     * The GEMMs over all time steps from step {@code first} on, after the time loop: {@code dW = Xᵀ·dGi},
     * {@code dRW = H_prevᵀ·dGh} and the input gradient {@code dX = dGi·Wᵀ}, copied into {@code epsOut} (zero for
     * steps before {@code first}).
     *
     * @param gi   gate errors of the input projections [T·mb, G] (G = 4n for the LSTM, 3n for the GRU)
     * @param gh   gate errors of the recurrent projections [T·mb, G] (the same array as {@code gi} for the LSTM)
     */
    final void weightAndInputGradients(HostArray x, HostArray h, HostArray gi, HostArray gh, int first, INDArray w,
                                       INDArray dW, INDArray dRW, INDArray epsOut, boolean ncw) {
        int g = (int) w.size(1);
        recurrentWeightGradient(h, gh, g, 0, g, first, dRW);
        inputGradients(x, gi, first, w, dW, epsOut, ncw);
    }

    /**
     * {@code dW = Xᵀ·dGi} and the input gradient {@code dX = dGi·Wᵀ} over the steps from {@code first} on, copied into
     * {@code epsOut} (zero for steps before {@code first}); a null {@code dW} or {@code epsOut} is skipped (the
     * per-example fast path of private training computes the weight gradients its own way).
     *
     * @param gi gate errors of the input projections [T·mb, G], G = {@code w.size(1)}
     */
    final void inputGradients(HostArray x, HostArray gi, int first, INDArray w, INDArray dW, INDArray epsOut,
                              boolean ncw) {
        int g = (int) w.size(1);
        long from = (long) first * mb;
        int count = (int) (steps * (long) mb - from);
        Mat giM = Mat.rowMajor(gi, g);
        if (dW != null) {
            Gemm.gemm(nIn, g, count, 1.0, Mat.rowMajor(x, nIn), from * nIn, true, giM, from * g, false, 0.0,
                    Mat.of(HostArray.of(dW), dW), 0);
        }
        if (epsOut == null) {
            return;
        }
        HostArray dx = memory.get(DX, type, (long) steps * mb * nIn);
        Gemm.gemm(count, nIn, g, 1.0, giM, from * g, false, Mat.of(HostArray.of(w), w), 0, true, 0.0,
                Mat.rowMajor(dx, nIn), from * nIn);
        for (long k = 0; k < from * nIn; k++) {
            dx.set((int) k, 0.0);
        }
        scatter(dx, 0, nIn, epsOut, ncw);
    }

    /**
     * Columns {@code col .. col + cols} of the recurrent weight gradient, {@code dRW[:, block] = Sᵀ·dG[:, block]} over
     * the steps from {@code first} on; nothing when {@code dRW} is null.
     *
     * @param s  the time-major inputs of that block's recurrent product [T·mb, n] (the previous hidden states, or
     *           what the GRU's reset-before candidate multiplies: r ⊙ h)
     * @param dg the errors of the recurrent products [T·mb, g]
     */
    final void recurrentWeightGradient(HostArray s, HostArray dg, int g, int col, int cols, int first, INDArray dRW) {
        if (dRW == null) {
            return;
        }
        long from = (long) first * mb;
        int count = (int) (steps * (long) mb - from);
        Mat d = Mat.of(HostArray.of(dRW), dRW);
        Gemm.gemm(n, cols, count, 1.0, Mat.rowMajor(s, n), from * n, true, Mat.rowMajor(dg, g), from * g + col, false,
                0.0, d, d.at(0, col));
    }

    /** Writes the sums in {@code acc} into the bias gradient view {@code db} (contiguous); null: skipped. */
    static void storeSums(double[] acc, int from, INDArray db) {
        if (db == null) {
            return;
        }
        HostArray d = HostArray.of(db);
        for (int j = 0; j < db.length(); j++) {
            d.set(j, acc[from + j]);
        }
    }

    /** Reads a contiguous bias vector into {@code into} from index {@code at}. */
    static void load(INDArray bias, double[] into, int at) {
        HostArray b = HostArray.of(bias);
        for (int j = 0; j < bias.length(); j++) {
            into[at + j] = b.get(j);
        }
    }

    /**
     * Copies a sequence array ([mb, size, T] NCW or [mb, T, size] NWC) into the time-major [T·mb, size] {@code dst}:
     * one Java loop over the source's strides when it is contiguous in any order (an ND4J permute-and-assign of
     * the same arrays costs several times more), ND4J's assign for any other view.
     */
    final void gather(INDArray seq, boolean ncw, HostArray dst, int size) {
        if (!contiguous3d(seq)) {
            INDArray tm = ncw ? seq.permute(2, 0, 1) : seq.permute(1, 0, 2);
            KernelMemory.view(dst, 0, steps, mb, size).assign(tm);
            return;
        }
        HostArray src = HostArray.of(seq);
        long sb = seq.stride(0);
        long sk = ncw ? seq.stride(1) : seq.stride(2);
        long st = ncw ? seq.stride(2) : seq.stride(1);
        int d = 0;
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < mb; b++) {
                long from = b * sb + t * st;
                for (int k = 0; k < size; k++, d++) {
                    dst.set(d, src.get((int) (from + k * sk)));
                }
            }
        }
    }

    /** The inverse of {@link #gather}: rows from {@code offset} on of the time-major {@code src} into {@code out}. */
    final void scatter(HostArray src, long offset, int size, INDArray out, boolean ncw) {
        if (!contiguous3d(out)) {
            INDArray seq = KernelMemory.view(src, offset, steps, mb, size);
            out.assign(ncw ? seq.permute(1, 2, 0) : seq.permute(1, 0, 2));
            return;
        }
        HostArray dst = HostArray.of(out);
        long sb = out.stride(0);
        long sk = ncw ? out.stride(1) : out.stride(2);
        long st = ncw ? out.stride(2) : out.stride(1);
        int s = (int) offset;
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < mb; b++) {
                long to = b * sb + t * st;
                for (int k = 0; k < size; k++, s++) {
                    dst.set((int) (to + k * sk), src.get(s));
                }
            }
        }
    }

    /** Whether a rank-3 array covers exactly its buffer's elements with 'c' or 'f' strides. */
    private static boolean contiguous3d(INDArray a) {
        if (a.length() > Integer.MAX_VALUE || a.rank() != 3) {
            return false;
        }
        long[] shape = a.shape();
        long[] stride = a.stride();
        boolean c = stride[2] == 1 && stride[1] == shape[2] && stride[0] == shape[1] * shape[2];
        boolean f = stride[0] == 1 && stride[1] == shape[0] && stride[2] == shape[0] * shape[1];
        return (c || f || a.length() == 1) && (a.length() <= 1 || a.elementWiseStride() == 1);
    }
}
