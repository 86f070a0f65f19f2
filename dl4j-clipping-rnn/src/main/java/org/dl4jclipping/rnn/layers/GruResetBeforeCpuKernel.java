package org.dl4jclipping.rnn.layers;

import static org.dl4jclipping.rnn.layers.ScalarActivation.apply;
import static org.dl4jclipping.rnn.layers.ScalarActivation.derivative;

import org.dl4jclipping.rnn.layers.Gemm.Mat;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The time loops of the reset-before GRU (Keras's {@code reset_after=False}; equations in
 * {@link org.dl4jclipping.rnn.conf.GRU}) on the CPU; the rest of the passes is {@link GruCpuKernel}'s. One bias
 * {@code b}; the reset gate multiplies h before the candidate's recurrent product, so a step needs r before it can
 * compute that product: two GEMMs and two loops per step.
 *
 * <p>Forward, per step (both GEMMs skipped while the state is zero):
 * <pre>
 *   R_rz = h_{t−1}·RW_rz                                       GEMM [mb, n] × [n, 2n]
 *   r = σ(a_r + b_r + R_r),  z = σ(a_z + b_z + R_z),  s = r ⊙ h_{t−1}       loop 1
 *   R_n = s·RW_n                                               GEMM [mb, n] × [n, n]
 *   n = g(a_n + b_n + R_n),  h_t = m_t ⊙ (n + z ⊙ (h_{t−1} − n))            loop 2
 * </pre>
 * storing r, z, n, s and h_t for the backward pass.
 *
 * <p>Backward, from the last step to {@code first}:
 * <pre>
 *   dh = m ⊙ dh_t,  dA_n = dh ⊙ (1 − z) ⊙ g'(n),  dA_z = dh ⊙ (h_{t−1} − n) ⊙ σ'(z)    loop 1
 *   dS = dA_n·RW_nᵀ                                                             GEMM
 *   dA_r = dS ⊙ h_{t−1} ⊙ σ'(r),  dh_{t−1} += dh ⊙ z + dS ⊙ r                         loop 2
 *   dh_{t−1} += dA_rz·RW_rzᵀ                                                     GEMM
 * </pre>
 * summing the bias gradient as it goes; then {@code dW = Xᵀ·dA}, {@code dRW_rz = H_prevᵀ·dA_rz},
 * {@code dRW_n = Sᵀ·dA_n} and the input gradient {@code dA·Wᵀ}.
 */
final class GruResetBeforeCpuKernel extends GruCpuKernel {

    GruResetBeforeCpuKernel(ScalarActivation act, ScalarActivation gate) {
        super(act, gate);
    }

    @Override
    void recurrence(HostArray a, HostArray rec, HostArray s, HostArray h, INDArray rw, boolean zeroInitial) {
        int g3 = 3 * n;
        Mat hM = Mat.rowMajor(h, n);
        Mat sM = Mat.rowMajor(s, n);
        Mat recM = Mat.rowMajor(rec, g3);
        Mat rwM = Mat.of(HostArray.of(rw), rw);
        long rwN = rwM.at(0, 2 * n);
        for (int t = 0; t < steps; t++) {
            boolean zeroState = t == 0 && zeroInitial;
            if (!zeroState) {
                Gemm.gemm(mb, 2 * n, n, 1.0, hM, (long) t * mb * n, false, rwM, 0, false, 0.0, recM, 0);
            }
            for (int e = 0; e < mb; e++) {
                int ar = (t * mb + e) * g3;
                int rr = e * g3;
                int sr = (t * mb + e) * n;
                for (int j = 0; j < n; j++) {
                    double recR = zeroState ? 0.0 : rec.get(rr + j);
                    double recZ = zeroState ? 0.0 : rec.get(rr + n + j);
                    double r = apply(gate, a.get(ar + j) + bias[j] + recR, exact);
                    double zv = apply(gate, a.get(ar + n + j) + bias[n + j] + recZ, exact);
                    a.set(ar + j, r);
                    a.set(ar + n + j, zv);
                    s.set(sr + j, r * h.get(sr + j));
                }
            }
            if (!zeroState) {
                Gemm.gemm(mb, n, n, 1.0, sM, (long) t * mb * n, false, rwM, rwN, false, 0.0, recM, 2 * n);
            }
            for (int e = 0; e < mb; e++) {
                double m = mask == null ? 1.0 : mask.get(e * steps + t);
                int ar = (t * mb + e) * g3;
                int rr = e * g3;
                int sr = (t * mb + e) * n;
                int next = sr + mb * n;
                for (int j = 0; j < n; j++) {
                    double recN = zeroState ? 0.0 : rec.get(rr + 2 * n + j);
                    double nv = apply(act, a.get(ar + 2 * n + j) + bias[2 * n + j] + recN, exact);
                    double zv = a.get(ar + n + j);
                    double hp = h.get(sr + j);
                    a.set(ar + 2 * n + j, nv);
                    h.set(next + j, m * (nv + zv * (hp - nv)));
                }
            }
        }
    }

    @Override
    HostArray backRecurrence(HostArray a, HostArray s, HostArray h, HostArray dh, HostArray dA, INDArray rw,
                             int first) {
        int g3 = 3 * n;
        HostArray dS = memory.get(DR, type, (long) mb * n);
        Mat dAM = Mat.rowMajor(dA, g3);
        Mat dSM = Mat.rowMajor(dS, n);
        Mat dhM = Mat.rowMajor(dh, n);
        Mat rwM = Mat.of(HostArray.of(rw), rw);
        long rwN = rwM.at(0, 2 * n);
        for (int t = steps - 1; t >= first; t--) {
            boolean propagate = t > first;
            for (int e = 0; e < mb; e++) {
                double m = mask == null ? 1.0 : mask.get(e * steps + t);
                int ar = (t * mb + e) * g3;
                int sr = (t * mb + e) * n;
                for (int j = 0; j < n; j++) {
                    double dhv = m * dh.get(sr + j);
                    double zv = a.get(ar + n + j);
                    double nv = a.get(ar + 2 * n + j);
                    double dan = dhv * (1.0 - zv) * derivative(act, nv);
                    double daz = dhv * (h.get(sr + j) - nv) * derivative(gate, zv);
                    dA.set(ar + n + j, daz);
                    dA.set(ar + 2 * n + j, dan);
                    sums[n + j] += daz;
                    sums[2 * n + j] += dan;
                }
            }
            Gemm.gemm(mb, n, n, 1.0, dAM, (long) t * mb * g3 + 2 * n, false, rwM, rwN, true, 0.0, dSM, 0);
            for (int e = 0; e < mb; e++) {
                double m = mask == null ? 1.0 : mask.get(e * steps + t);
                int ar = (t * mb + e) * g3;
                int sr = (t * mb + e) * n;
                int prev = sr - mb * n;
                for (int j = 0; j < n; j++) {
                    double r = a.get(ar + j);
                    double ds = dS.get(e * n + j);
                    double dar = ds * h.get(sr + j) * derivative(gate, r);
                    dA.set(ar + j, dar);
                    sums[j] += dar;
                    if (propagate) {
                        double dhv = m * dh.get(sr + j);
                        dh.set(prev + j, dh.get(prev + j) + dhv * a.get(ar + n + j) + ds * r);
                    }
                }
            }
            if (propagate) {
                Gemm.gemm(mb, n, 2 * n, 1.0, dAM, (long) t * mb * g3, false, rwM, 0, true, 1.0, dhM,
                        (long) (t - 1) * mb * n);
            }
        }
        return dA;
    }

    @Override
    void finishGradients(HostArray x, HostArray h, HostArray s, HostArray dA, HostArray dR, int first, INDArray w,
                         INDArray dW, INDArray dRW, INDArray epsOut, boolean ncw) {
        int g3 = 3 * n;
        recurrentWeightGradient(h, dA, g3, 0, 2 * n, first, dRW);
        recurrentWeightGradient(s, dA, g3, 2 * n, n, first, dRW);
        inputGradients(x, dA, first, w, dW, epsOut, ncw);
    }
}
