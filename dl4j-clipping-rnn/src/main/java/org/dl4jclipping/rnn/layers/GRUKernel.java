package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The GRU arithmetic over whole time-major sequences with ND4J ops, for both variants of {@link
 * org.dl4jclipping.rnn.conf.GRU} (equations there and in {@link GRULayer}).
 *
 * <p>Forward: one GEMM {@code [T·mb, nIn] × [nIn, 3·nOut]} for the input projections of all steps, then per step
 * the recurrent GEMMs (reset-after: one {@code [mb, nOut] × [nOut, 3·nOut]}; reset-before: {@code h·RW_rz} and,
 * once r is known, {@code (r ⊙ h)·RW_n}) and a handful of element-wise ops on views of preallocated arrays.
 * Backward: per step one GEMM {@code [mb, 3·nOut] × [3·nOut, nOut]} for the recurrent error (reset-before: one more,
 * {@code dA_n·RW_nᵀ}, the error of {@code r ⊙ h}); the weight gradients and the input error are one GEMM each over
 * all steps (reset-before: {@code dRW} in two column blocks, {@code H_prevᵀ·dA_rz} and {@code (R ⊙ H_prev)ᵀ·dA_n}).
 *
 * <p>Masking (as DL4J's LSTM): {@code h_t = m_t ⊙ GRU(x_t, h_{t-1})}, so a masked step outputs zero, carries a zero
 * state forward and receives no gradient.
 */
final class GRUKernel {

    private GRUKernel() {
    }

    /**
     * Runs the recurrence.
     *
     * @param x            input, time-major [T·mb, nIn], 'c' order
     * @param p            parameters; {@code p.rb()} is null exactly when {@code resetAfter} is false
     * @param h0           initial hidden state [mb, nOut], or null for zeros
     * @param mask         time-major mask [T·mb, 1], or null
     * @param resetAfter   the variant: reset gate after (true) or before (false) the candidate's recurrent product
     * @param forBackprop  keep pre-activations and recurrent terms of every step for {@link #backward}
     */
    static GRUForwardPass forward(INDArray x, long minibatch, long steps, GRUWeights p, INDArray h0,
                                  INDArray mask, IActivation act, IActivation gateAct, boolean resetAfter,
                                  boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        ArrayType ws = forBackprop ? ArrayType.BP_WORKING_MEM : ArrayType.FF_WORKING_MEM;
        DataType dt = p.w().dataType();
        long n = p.nOut();
        long rowsTotal = steps * minibatch;

        INDArray preAct = mgr.createUninitialized(ws, dt, new long[] {rowsTotal, 3 * n}, 'c');
        Nd4j.gemm(x, p.w(), preAct, false, false, 1.0, 0.0);
        // Reset-after: r and z only ever see b_i + b_h, so both biases go in here; b_hn stays in the recurrent part.
        INDArray combinedBias = p.b().dup('c');
        if (resetAfter) {
            cols(combinedBias, 0, 2 * n).addi(cols(p.rb(), 0, 2 * n));
        }
        preAct.addiRowVector(combinedBias);

        INDArray act3 = forBackprop ? mgr.createUninitialized(ws, dt, new long[] {rowsTotal, 3 * n}, 'c') : preAct;
        INDArray recN = mgr.createUninitialized(ws, dt, new long[] {forBackprop ? rowsTotal : minibatch, n}, 'c');
        INDArray hidden = mgr.createUninitialized(ws, dt, new long[] {rowsTotal + minibatch, n}, 'c');
        INDArray tmp = mgr.createUninitialized(ws, dt, new long[] {minibatch, n}, 'c');
        if (h0 == null) {
            rows(hidden, 0, minibatch).assign(0);
        } else {
            rows(hidden, 0, minibatch).assign(h0);
        }
        // Reset-after: one product h·RW [mb, 3n]. Reset-before: h·RW_rz [mb, 2n], then (r ⊙ h)·RW_n [mb, n]; a
        // GEMM's output must be contiguous, hence separate arrays and contiguous copies of the weight blocks.
        INDArray recurrent = mgr.createUninitialized(ws, dt, new long[] {minibatch, resetAfter ? 3 * n : 2 * n}, 'c');
        INDArray recRz = resetAfter ? cols(recurrent, 0, 2 * n) : recurrent;
        INDArray recNraw = resetAfter ? cols(recurrent, 2 * n, 3 * n)
                : mgr.createUninitialized(ws, dt, new long[] {minibatch, n}, 'c');
        INDArray rwRz = resetAfter ? null : mgr.dup(ws, cols(p.rw(), 0, 2 * n), 'c');
        INDArray rwN = resetAfter ? null : mgr.dup(ws, cols(p.rw(), 2 * n, 3 * n), 'c');
        INDArray rbN = resetAfter ? cols(p.rb(), 2 * n, 3 * n) : null;

        GRUForwardPass fp = new GRUForwardPass(x, preAct, act3, recN, hidden, mask, minibatch, steps, resetAfter);
        for (long t = 0; t < steps; t++) {
            INDArray hPrev = fp.step(hidden, t);
            INDArray hCur = fp.step(hidden, t + 1);
            INDArray aT = fp.step(preAct, t);
            INDArray gT = fp.step(act3, t);
            // Reset-after: h·RW_n + b_hn; reset-before: r ⊙ h.
            INDArray candRec = forBackprop ? fp.step(recN, t) : recN;

            if (resetAfter) {
                Nd4j.gemm(hPrev, p.rw(), recurrent, false, false, 1.0, 0.0);
                Nd4j.getExecutioner().exec(new BroadcastAddOp(recNraw, rbN, candRec, 1));
            } else {
                Nd4j.gemm(hPrev, rwRz, recRz, false, false, 1.0, 0.0);
            }
            INDArray aRz = cols(aT, 0, 2 * n);
            aRz.addi(recRz);

            INDArray gRz = cols(gT, 0, 2 * n);
            if (forBackprop) {
                gRz.assign(aRz);
            }
            applyActivation(gateAct, gRz, training);
            INDArray r = cols(gT, 0, n);
            INDArray z = cols(gT, n, 2 * n);

            INDArray aN = cols(aT, 2 * n, 3 * n);
            if (resetAfter) {
                r.mul(candRec, tmp);
                aN.addi(tmp);
            } else {
                r.mul(hPrev, candRec);
                Nd4j.gemm(candRec, rwN, recNraw, false, false, 1.0, 0.0);
                aN.addi(recNraw);
            }
            INDArray cand = cols(gT, 2 * n, 3 * n);
            if (forBackprop) {
                cand.assign(aN);
            }
            applyActivation(act, cand, training);

            // h = n + z ⊙ (h_prev − n)
            hPrev.sub(cand, tmp);
            tmp.muli(z);
            cand.add(tmp, hCur);
            if (mask != null) {
                hCur.muliColumnVector(fp.step(mask, t));
            }
        }
        return fp;
    }

    /**
     * Back-propagates through the recurrence.
     *
     * @param fp        the pass from {@link #forward} with {@code forBackprop = true}
     * @param dOut      dL/d(output), time-major [T·mb, nOut]; overwritten (it accumulates dL/dh_t)
     * @param firstStep the earliest step to back-propagate into (0 = full BPTT; &gt; 0 for truncated BPTT)
     * @param grads     gradient views to overwrite, in the parameter layout ({@code rb} null for reset-before)
     * @return dL/dx, time-major [T·mb, nIn] in {@link ArrayType#BP_WORKING_MEM}; zero for steps before
     *         {@code firstStep}
     */
    static INDArray backward(GRUForwardPass fp, INDArray dOut, long firstStep, GRUWeights p,
                             GRUWeights grads, IActivation act, IActivation gateAct, LayerWorkspaceMgr mgr) {
        ArrayType ws = ArrayType.BP_WORKING_MEM;
        DataType dt = p.w().dataType();
        long n = p.nOut();
        long mb = fp.minibatch();
        long steps = fp.steps();
        long rowsTotal = steps * mb;
        boolean resetAfter = fp.resetAfter();

        INDArray dRz = derivative(gateAct, cols(fp.preAct(), 0, 2 * n), mgr);
        INDArray dN = derivative(act, cols(fp.preAct(), 2 * n, 3 * n), mgr);
        long[] gateShape = {rowsTotal, 3 * n};
        INDArray dGi = firstStep > 0 ? mgr.create(ws, dt, gateShape, 'c') : mgr.createUninitialized(ws, dt, gateShape, 'c');
        // Errors of the recurrent products: reset-after [dA_r, dA_z, dA_n ⊙ r]; reset-before they are dGi itself.
        INDArray dGh = !resetAfter ? dGi
                : firstStep > 0 ? mgr.create(ws, dt, gateShape, 'c') : mgr.createUninitialized(ws, dt, gateShape, 'c');
        INDArray tmp = mgr.createUninitialized(ws, dt, new long[] {mb, n}, 'c');
        INDArray dS = resetAfter ? null : mgr.createUninitialized(ws, dt, new long[] {mb, n}, 'c');
        INDArray rwN = resetAfter ? null : mgr.dup(ws, cols(p.rw(), 2 * n, 3 * n), 'c');
        INDArray rwRz = resetAfter ? null : mgr.dup(ws, cols(p.rw(), 0, 2 * n), 'c');

        for (long t = steps - 1; t >= firstStep; t--) {
            INDArray dh = fp.step(dOut, t);
            if (fp.mask() != null) {
                dh.muliColumnVector(fp.step(fp.mask(), t));
            }
            INDArray gT = fp.step(fp.act(), t);
            INDArray r = cols(gT, 0, n);
            INDArray z = cols(gT, n, 2 * n);
            INDArray cand = cols(gT, 2 * n, 3 * n);
            INDArray hPrev = fp.step(fp.hidden(), t);
            INDArray dRzT = fp.step(dRz, t);

            INDArray gi = fp.step(dGi, t);
            INDArray giR = cols(gi, 0, n);
            INDArray giZ = cols(gi, n, 2 * n);
            INDArray giN = cols(gi, 2 * n, 3 * n);
            // dL/da_n = dh ⊙ (1 − z) ⊙ g'(a_n)
            z.rsub(1.0, tmp);
            dh.mul(tmp, giN);
            giN.muli(fp.step(dN, t));
            // dL/da_z = dh ⊙ (h_prev − n) ⊙ σ'(a_z)
            hPrev.sub(cand, giZ);
            giZ.muli(dh);
            giZ.muli(cols(dRzT, n, 2 * n));
            if (resetAfter) {
                // dL/da_r = dL/da_n ⊙ (h·RW_n + b_hn) ⊙ σ'(a_r)
                giN.mul(fp.step(fp.recurrentN(), t), giR);
                giR.muli(cols(dRzT, 0, n));
                INDArray gh = fp.step(dGh, t);
                cols(gh, 0, 2 * n).assign(cols(gi, 0, 2 * n));
                giN.mul(r, cols(gh, 2 * n, 3 * n));
            } else {
                // dL/d(r ⊙ h) = dL/da_n · RW_nᵀ;  dL/da_r = that ⊙ h_prev ⊙ σ'(a_r)
                Nd4j.gemm(giN, rwN, dS, false, true, 1.0, 0.0);
                dS.mul(hPrev, giR);
                giR.muli(cols(dRzT, 0, n));
            }

            if (t > firstStep) {
                INDArray dhPrev = fp.step(dOut, t - 1);
                dh.mul(z, tmp);
                dhPrev.addi(tmp);
                if (resetAfter) {
                    Nd4j.gemm(fp.step(dGh, t), p.rw(), dhPrev, false, true, 1.0, 1.0);
                } else {
                    dS.mul(r, tmp);
                    dhPrev.addi(tmp);
                    Nd4j.gemm(cols(gi, 0, 2 * n), rwRz, dhPrev, false, true, 1.0, 1.0);
                }
            }
        }

        long from = firstStep * mb;
        INDArray giSeg = rows(dGi, from, rowsTotal);
        INDArray ghSeg = rows(dGh, from, rowsTotal);
        Nd4j.gemm(rows(fp.x(), from, rowsTotal), giSeg, grads.w(), true, false, 1.0, 0.0);
        grads.b().assign(giSeg.sum(true, 0));
        if (resetAfter) {
            Nd4j.gemm(rows(fp.previousHidden(), from, rowsTotal), ghSeg, grads.rw(), true, false, 1.0, 0.0);
            grads.rb().assign(ghSeg.sum(true, 0));
        } else {
            // dRW_rz = H_prevᵀ·dA_rz, dRW_n = (R ⊙ H_prev)ᵀ·dA_n
            INDArray hT = rows(fp.previousHidden(), from, rowsTotal);
            INDArray sT = rows(fp.recurrentN(), from, rowsTotal);
            cols(grads.rw(), 0, 2 * n).assign(hT.transpose().mmul(cols(giSeg, 0, 2 * n)));
            cols(grads.rw(), 2 * n, 3 * n).assign(sT.transpose().mmul(cols(giSeg, 2 * n, 3 * n)));
        }

        INDArray dx = mgr.createUninitialized(ws, dt, new long[] {rowsTotal, p.w().size(0)}, 'c');
        Nd4j.gemm(dGi, p.w(), dx, false, true, 1.0, 0.0);
        return dx;
    }

    /** Element-wise derivative g'(a) of an activation for all entries of {@code preAct}. */
    static INDArray derivative(IActivation fn, INDArray preAct, LayerWorkspaceMgr mgr) {
        INDArray in = mgr.dup(ArrayType.BP_WORKING_MEM, preAct, 'c');
        INDArray ones = mgr.createUninitialized(ArrayType.BP_WORKING_MEM, in.dataType(), in.shape(), 'c').assign(1.0);
        INDArray d = fn.backprop(in, ones).getFirst();
        return d == in ? in : mgr.dup(ArrayType.BP_WORKING_MEM, d, 'c');
    }

    static void applyActivation(IActivation fn, INDArray target, boolean training) {
        INDArray out = fn.getActivation(target, training);
        if (out != target) {
            target.assign(out);
        }
    }

    static INDArray rows(INDArray m, long from, long to) {
        return m.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
    }

    static INDArray cols(INDArray m, long from, long to) {
        return m.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to));
    }
}
