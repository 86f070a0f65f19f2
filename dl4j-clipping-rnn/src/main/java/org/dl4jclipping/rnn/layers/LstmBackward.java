package org.dl4jclipping.rnn.layers;

import static org.dl4jclipping.rnn.layers.GRUKernel.cols;
import static org.dl4jclipping.rnn.layers.GRUKernel.rows;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The LSTM backward pass over a whole time-major sequence, with DL4J's parameter layout (gate blocks g, f, o, i),
 * from the hidden states the native forward op computed.
 *
 * <p>Why not libnd4j's {@code lstmLayer_bp}: in ND4J 1.0.0-M2.1 it leaks native memory on every call (about 31 MB
 * per call at width 256, T 100, batch 32: a char-LM ran out of 24 GB after 350 steps; {@code LstmLayerBpLeakTest}
 * keeps the reproduction), and it costs about 4 times the forward op.
 *
 * <p>Steps: the gate pre-activations of all steps from two GEMMs ({@code Z = X·W + H_prev·RW + b}, H_prev the
 * forward op's outputs shifted by one step, starting from h0), the activations and their derivatives over all steps
 * at once, the cell states by their recurrence {@code c_t = m_t ⊙ (f_t ⊙ c_{t-1} + i_t ⊙ g_t)}; then, from the last
 * step back, per step one GEMM for the recurrent error and a few element-wise products:
 * <pre>
 *   dh_t = m_t ⊙ (ε_t + dZ_{t+1}·RWᵀ)
 *   dc_t = m_t ⊙ (dh_t ⊙ o_t ⊙ a'(c_t) + dc_{t+1} ⊙ f_{t+1})
 *   dZ_o = dh_t ⊙ a(c_t) ⊙ σ'(z_o),  dZ_f = dc_t ⊙ c_{t-1} ⊙ σ'(z_f),
 *   dZ_i = dc_t ⊙ g_t ⊙ σ'(z_i),     dZ_g = dc_t ⊙ i_t ⊙ a'(z_g)
 * </pre>
 * and the parameter and input gradients as GEMMs over all steps: {@code dW = Xᵀ·dZ}, {@code dRW = H_prevᵀ·dZ},
 * {@code db = Σ dZ}, {@code dX = dZ·Wᵀ}. With a truncated backward length only the last steps get a {@code dZ}
 * (the rest stay zero), which is DL4J's truncated BPTT. {@code m_t} is the mask column of step t (1 without a mask).
 */
final class LstmBackward {

    private LstmBackward() {
    }

    /**
     * @param x       input, time-major [T·mb, nIn], 'c'
     * @param h       hidden states [(T+1)·mb, n], 'c': h0 (zeros without a state) then the forward op's outputs
     * @param c0      initial cell state [mb, n], or null for zeros
     * @param mask    time-major mask [T·mb, 1], or null
     * @param eps     dL/dh for every step, time-major [T·mb, n], 'c'; overwritten (it becomes dh)
     * @param first   first step that gets a gradient (0, or T - backward length)
     * @param dW      gradient view of W [nIn, 4n] (written)
     * @param dRW     gradient view of RW [n, 4n] (written)
     * @param db      gradient view of b [4n] (written)
     * @return dL/dx, time-major [T·mb, nIn] in working memory
     */
    static INDArray run(INDArray x, INDArray h, INDArray c0, INDArray mask, INDArray eps, long mb, long steps,
                        long first, INDArray w, INDArray rw, INDArray b, IActivation act, IActivation gate,
                        INDArray dW, INDArray dRW, INDArray db, LayerWorkspaceMgr mgr) {
        ArrayType ws = ArrayType.BP_WORKING_MEM;
        DataType dt = x.dataType();
        long n = rw.size(0);
        long rowsTotal = steps * mb;
        INDArray hPrev = rows(h, 0, rowsTotal);

        // Gate pre-activations of all steps, gate blocks g, f, o, i.
        INDArray z = mgr.createUninitialized(ws, dt, new long[] {rowsTotal, 4 * n}, 'c');
        Nd4j.gemm(x, w, z, false, false, 1.0, 0.0);
        Nd4j.gemm(hPrev, rw, z, false, false, 1.0, 1.0);
        z.addiRowVector(b.reshape(1, 4 * n));
        INDArray zg = cols(z, 0, n);
        INDArray zf = cols(z, n, 2 * n);
        INDArray zo = cols(z, 2 * n, 3 * n);
        INDArray zi = cols(z, 3 * n, 4 * n);
        INDArray g = activated(act, zg, mgr);
        INDArray f = activated(gate, zf, mgr);
        INDArray o = activated(gate, zo, mgr);
        INDArray i = activated(gate, zi, mgr);

        // Cell states c_{-1} .. c_{T-1}: rows [0, mb) hold c0.
        INDArray c = mgr.create(ws, dt, new long[] {rowsTotal + mb, n}, 'c');
        if (c0 != null) {
            rows(c, 0, mb).assign(c0);
        }
        INDArray ig = mgr.dup(ws, i, 'c').muli(g);
        for (long t = 0; t < steps; t++) {
            INDArray ct = rows(c, (t + 1) * mb, (t + 2) * mb);
            rows(f, t * mb, (t + 1) * mb).mul(rows(c, t * mb, (t + 1) * mb), ct);
            ct.addi(rows(ig, t * mb, (t + 1) * mb));
            if (mask != null) {
                ct.muliColumnVector(rows(mask, t * mb, (t + 1) * mb));
            }
        }
        INDArray cAll = rows(c, mb, rowsTotal + mb);
        INDArray tanhC = activated(act, cAll, mgr);

        // Step-independent factors of the gate errors.
        INDArray dcFromDh = mgr.dup(ws, o, 'c').muli(GRUKernel.derivative(act, cAll, mgr));
        INDArray dO = tanhC.muli(GRUKernel.derivative(gate, zo, mgr));
        INDArray dF = GRUKernel.derivative(gate, zf, mgr).muli(rows(c, 0, rowsTotal));
        INDArray dI = GRUKernel.derivative(gate, zi, mgr).muli(g);
        INDArray dG = GRUKernel.derivative(act, zg, mgr).muli(i);

        INDArray dz = mgr.create(ws, dt, new long[] {rowsTotal, 4 * n}, 'c');
        INDArray dc = mgr.createUninitialized(ws, dt, new long[] {mb, n}, 'c');
        INDArray dcNext = mgr.createUninitialized(ws, dt, new long[] {mb, n}, 'c');
        for (long t = steps - 1; t >= first; t--) {
            long r0 = t * mb;
            long r1 = r0 + mb;
            INDArray dh = rows(eps, r0, r1);   // eps is a working copy: dh_t accumulates in place
            if (t < steps - 1) {
                Nd4j.gemm(rows(dz, r1, r1 + mb), rw, dh, false, true, 1.0, 1.0);
            }
            if (mask != null) {
                dh.muliColumnVector(rows(mask, r0, r1));
            }
            dh.mul(rows(dcFromDh, r0, r1), dc);
            if (t < steps - 1) {
                dc.addi(dcNext.muli(rows(f, r1, r1 + mb)));
            }
            if (mask != null) {
                dc.muliColumnVector(rows(mask, r0, r1));
            }
            INDArray dzT = rows(dz, r0, r1);
            dh.mul(rows(dO, r0, r1), cols(dzT, 2 * n, 3 * n));
            dc.mul(rows(dF, r0, r1), cols(dzT, n, 2 * n));
            dc.mul(rows(dI, r0, r1), cols(dzT, 3 * n, 4 * n));
            dc.mul(rows(dG, r0, r1), cols(dzT, 0, n));
            INDArray swap = dcNext;
            dcNext = dc;
            dc = swap;
        }

        Nd4j.gemm(x, dz, dW, true, false, 1.0, 0.0);
        Nd4j.gemm(hPrev, dz, dRW, true, false, 1.0, 0.0);
        dz.sum(db.reshape(4 * n), 0);
        INDArray dx = mgr.createUninitialized(ws, dt, new long[] {rowsTotal, x.size(1)}, 'c');
        Nd4j.gemm(dz, w, dx, false, true, 1.0, 0.0);
        return dx;
    }

    /** {@code fn(pre)} in a new working array ({@code pre} unchanged). */
    private static INDArray activated(IActivation fn, INDArray pre, LayerWorkspaceMgr mgr) {
        INDArray out = mgr.dup(ArrayType.BP_WORKING_MEM, pre, 'c');
        GRUKernel.applyActivation(fn, out, true);
        return out;
    }
}
