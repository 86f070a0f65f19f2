package org.dl4jclipping.rnn.layers;

import static org.dl4jclipping.rnn.layers.ScalarActivation.apply;
import static org.dl4jclipping.rnn.layers.ScalarActivation.derivative;

import org.dl4jclipping.rnn.layers.Gemm.Mat;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * NativeLSTM's forward and backward passes on the CPU, with no ND4J call inside the time loop (the layout and the
 * shared steps are in {@link RecurrentCpuKernel}). DL4J's parameter layout: gate blocks g, f, o, i of
 * {@code W} [nIn, 4n], {@code RW} [n, 4n], {@code b} [4n].
 *
 * <p>Forward: one GEMM {@code Z = X·W} for the input projections of all steps; then per step one GEMM
 * {@code Z_t += h_{t−1}·RW} (skipped while the state is zero) and one Java loop over [mb, n] that adds the bias
 * and computes
 * <pre>
 *   g = a(z_g), f = σ(z_f), o = σ(z_o), i = σ(z_i)
 *   c_t = m_t ⊙ (f ⊙ c_{t−1} + i ⊙ g),   h_t = m_t ⊙ o ⊙ a(c_t)
 * </pre>
 * storing the four gate activations over Z, c_t, a(c_t) and h_t: everything the backward pass needs, so it does
 * not run the forward pass again. {@code m_t} is 1 for steps within an example's length, 0 after it.
 *
 * <p>Backward, from the last step to {@code first} (a truncated-BPTT backward length stops there): one GEMM
 * {@code dh_t += dZ_{t+1}·RWᵀ}, then one loop for
 * <pre>
 *   dh = m ⊙ dh_t,   dc = m ⊙ (dh ⊙ o ⊙ a'(c_t) + dc_{t+1} ⊙ f_{t+1})
 *   dZ_o = dh ⊙ a(c_t) ⊙ σ'(o),  dZ_f = dc ⊙ c_{t−1} ⊙ σ'(f),  dZ_i = dc ⊙ g ⊙ σ'(i),  dZ_g = dc ⊙ i ⊙ a'(g)
 * </pre>
 * with the bias gradient summed as it goes, then {@code dW}, {@code dRW} and the input gradient as one GEMM each.
 * The derivatives come from the stored activations ({@link ScalarActivation#derivative}).
 *
 * <p>The last state of an example with length {@code len < T} is its state after step {@code len − 1} (the state
 * libnd4j's {@code lstmLayer} returns with sequence lengths), its initial state when {@code len = 0}.
 */
final class LstmCpuKernel extends RecurrentCpuKernel {

    private static final int GATES = FIRST_FREE;
    private static final int CELLS = FIRST_FREE + 1;
    private static final int ACT_C = FIRST_FREE + 2;
    static final int DZ = FIRST_FREE + 3;
    private static final int DC = FIRST_FREE + 4;
    private static final int DC_NEXT = FIRST_FREE + 5;

    private int[] lengths;
    private double[] bias = new double[0];
    private double[] dbSum = new double[0];

    LstmCpuKernel(ScalarActivation act, ScalarActivation gate) {
        super(FIRST_FREE + 6, act, gate);
    }

    /**
     * Runs the forward pass and keeps what {@link #backward} needs.
     *
     * @param input   [mb, nIn, T] (NCW) or [mb, T, nIn] (NWC), any order, the layer's data type
     * @param w       W [nIn, 4n], contiguous; {@code rw} [n, 4n] and {@code b} [4n] likewise
     * @param h0      initial hidden state [mb, n], or null for zeros; {@code c0} likewise
     * @param lengths per-example sequence lengths, or null when every example has all T steps
     * @param out     the output to fill, [mb, n, T] (NCW) or [mb, T, n] (NWC)
     * @param hLast   receives each example's last hidden state [mb, n], or null; {@code cLast} likewise
     */
    void forward(INDArray input, boolean ncw, INDArray w, INDArray rw, INDArray b, INDArray h0, INDArray c0,
                 int[] lengths, INDArray out, INDArray hLast, INDArray cLast) {
        HostArray x = begin(input, ncw, rw);
        this.lengths = lengths;
        int g4 = 4 * n;
        int rows = steps * mb;
        HostArray z = memory.get(GATES, type, (long) rows * g4);
        HostArray c = stateWithInitial(CELLS, c0);
        HostArray h = hidden(h0);
        HostArray ac = memory.get(ACT_C, type, (long) rows * n);
        if (bias.length != g4) {
            bias = new double[g4];
            dbSum = new double[g4];
        }
        load(b, bias, 0);

        Mat zM = Mat.rowMajor(z, g4);
        Mat hM = Mat.rowMajor(h, n);
        Mat rwM = Mat.of(HostArray.of(rw), rw);
        Gemm.gemm(rows, g4, nIn, 1.0, Mat.rowMajor(x, nIn), 0, false, Mat.of(HostArray.of(w), w), 0, false, 0.0, zM, 0);
        boolean stateZero = h0 == null;
        for (int t = 0; t < steps; t++) {
            if (t > 0 || !stateZero) {
                Gemm.gemm(mb, g4, n, 1.0, hM, (long) t * mb * n, false, rwM, 0, false, 1.0, zM, (long) t * mb * g4);
            }
            for (int e = 0; e < mb; e++) {
                double m = lengths == null || t < lengths[e] ? 1.0 : 0.0;
                int zr = (t * mb + e) * g4;
                int sr = (t * mb + e) * n;
                int next = sr + mb * n;
                for (int j = 0; j < n; j++) {
                    double gv = apply(act, z.get(zr + j) + bias[j], exact);
                    double fv = apply(gate, z.get(zr + n + j) + bias[n + j], exact);
                    double ov = apply(gate, z.get(zr + 2 * n + j) + bias[2 * n + j], exact);
                    double iv = apply(gate, z.get(zr + 3 * n + j) + bias[3 * n + j], exact);
                    z.set(zr + j, gv);
                    z.set(zr + n + j, fv);
                    z.set(zr + 2 * n + j, ov);
                    z.set(zr + 3 * n + j, iv);
                    double cv = m * Math.fma(fv, c.get(sr + j), iv * gv);
                    double acv = apply(act, cv, exact);
                    c.set(next + j, cv);
                    ac.set(sr + j, acv);
                    h.set(next + j, m * ov * acv);
                }
            }
        }
        writeOutput(h, out, ncw);
        lastState(h, hLast);
        lastState(c, cLast);
    }

    private void lastState(HostArray state, INDArray into) {
        if (into == null) {
            return;
        }
        HostArray d = HostArray.of(into);
        for (int e = 0; e < mb; e++) {
            int len = lengths == null ? steps : Math.min(lengths[e], steps);
            int from = (len * mb + e) * n;
            for (int j = 0; j < n; j++) {
                d.set(e * n + j, state.get(from + j));
            }
        }
    }

    /**
     * The backward pass of the latest {@link #forward}.
     *
     * @param epsilon dL/d(output), the output's shape
     * @param first   first step that gets a gradient (0, or T − the truncated-BPTT backward length)
     * @param dW      gradient view of W (written); {@code dRW}, {@code db} likewise
     * @param epsOut  receives dL/d(input), the input's shape
     */
    void backward(INDArray epsilon, boolean ncw, int first, INDArray w, INDArray rw, INDArray dW, INDArray dRW,
                  INDArray db, INDArray epsOut) {
        int g4 = 4 * n;
        HostArray x = memory.get(X, type, 0);
        HostArray z = memory.get(GATES, type, 0);
        HostArray c = memory.get(CELLS, type, 0);
        HostArray h = memory.get(HIDDEN, type, 0);
        HostArray ac = memory.get(ACT_C, type, 0);
        HostArray dh = epsilonTimeMajor(epsilon, ncw);
        HostArray dz = memory.get(DZ, type, (long) steps * mb * g4);
        HostArray dc = memory.get(DC, type, (long) mb * n);
        HostArray dcNext = memory.get(DC_NEXT, type, (long) mb * n);
        java.util.Arrays.fill(dbSum, 0.0);

        Mat dzM = Mat.rowMajor(dz, g4);
        Mat dhM = Mat.rowMajor(dh, n);
        Mat rwM = Mat.of(HostArray.of(rw), rw);
        for (int t = steps - 1; t >= first; t--) {
            boolean last = t == steps - 1;
            if (!last) {
                Gemm.gemm(mb, n, g4, 1.0, dzM, (long) (t + 1) * mb * g4, false, rwM, 0, true, 1.0, dhM,
                        (long) t * mb * n);
            }
            for (int e = 0; e < mb; e++) {
                double m = lengths == null || t < lengths[e] ? 1.0 : 0.0;
                int zr = (t * mb + e) * g4;
                int sr = (t * mb + e) * n;
                for (int j = 0; j < n; j++) {
                    double dhv = m * dh.get(sr + j);
                    double gv = z.get(zr + j);
                    double fv = z.get(zr + n + j);
                    double ov = z.get(zr + 2 * n + j);
                    double iv = z.get(zr + 3 * n + j);
                    double acv = ac.get(sr + j);
                    double dcv = dhv * ov * derivative(act, acv);
                    if (!last) {
                        dcv += dcNext.get(e * n + j) * z.get(zr + mb * g4 + n + j);
                    }
                    dcv *= m;
                    double dzg = dcv * iv * derivative(act, gv);
                    double dzf = dcv * c.get(sr + j) * derivative(gate, fv);
                    double dzo = dhv * acv * derivative(gate, ov);
                    double dzi = dcv * gv * derivative(gate, iv);
                    dz.set(zr + j, dzg);
                    dz.set(zr + n + j, dzf);
                    dz.set(zr + 2 * n + j, dzo);
                    dz.set(zr + 3 * n + j, dzi);
                    dbSum[j] += dzg;
                    dbSum[n + j] += dzf;
                    dbSum[2 * n + j] += dzo;
                    dbSum[3 * n + j] += dzi;
                    dc.set(e * n + j, dcv);
                }
            }
            HostArray swap = dcNext;
            dcNext = dc;
            dc = swap;
        }
        storeSums(dbSum, 0, db);
        weightAndInputGradients(x, h, dz, dz, first, w, dW, dRW, epsOut, ncw);
    }
}
