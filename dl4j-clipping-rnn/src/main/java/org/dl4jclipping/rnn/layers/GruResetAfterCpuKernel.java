package org.dl4jclipping.rnn.layers;

import static org.dl4jclipping.rnn.layers.ScalarActivation.apply;
import static org.dl4jclipping.rnn.layers.ScalarActivation.derivative;

import org.dl4jclipping.rnn.layers.Gemm.Mat;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The time loops of the reset-after GRU (PyTorch's {@code nn.GRU}; equations in {@link GRULayer}) on the CPU; the
 * rest of the passes is {@link GruCpuKernel}'s.
 *
 * <p>Forward: per step one GEMM {@code R = h_{t−1}·RW} into a [mb, 3n] scratch (skipped while the state is zero)
 * and one Java loop:
 * <pre>
 *   r = σ(a_r + b_r + R_r + rb_r),  z = σ(a_z + b_z + R_z + rb_z),  q = R_n + rb_n
 *   n = g(a_n + b_n + r ⊙ q),       h_t = m_t ⊙ (n + z ⊙ (h_{t−1} − n))
 * </pre>
 * storing r, z, n, q and h_t for the backward pass (which does not run the forward pass again). {@code m_t} is the
 * mask value of the example at step t (1 without a mask).
 *
 * <p>Backward, from the last step to {@code first}: one loop per step for
 * <pre>
 *   dh = m ⊙ dh_t,  dA_n = dh ⊙ (1 − z) ⊙ g'(n),  dA_z = dh ⊙ (h_{t−1} − n) ⊙ σ'(z),  dA_r = dA_n ⊙ q ⊙ σ'(r)
 *   dR_r = dA_r,  dR_z = dA_z,  dR_n = dA_n ⊙ r,  dh_{t−1} += dh ⊙ z
 * </pre>
 * and one GEMM {@code dh_{t−1} += dR·RWᵀ}; both bias gradients are summed as it goes; then {@code dW = Xᵀ·dA},
 * {@code dRW = H_prevᵀ·dR} and the input gradient as one GEMM each.
 */
final class GruResetAfterCpuKernel extends GruCpuKernel {

    GruResetAfterCpuKernel(ScalarActivation act, ScalarActivation gate) {
        super(act, gate);
    }

    @Override
    void recurrence(HostArray a, HostArray rec, HostArray q, HostArray h, INDArray rw, boolean zeroInitial) {
        int g3 = 3 * n;
        Mat hM = Mat.rowMajor(h, n);
        Mat recM = Mat.rowMajor(rec, g3);
        Mat rwM = Mat.of(HostArray.of(rw), rw);
        for (int t = 0; t < steps; t++) {
            boolean zeroState = t == 0 && zeroInitial;
            if (!zeroState) {
                Gemm.gemm(mb, g3, n, 1.0, hM, (long) t * mb * n, false, rwM, 0, false, 0.0, recM, 0);
            }
            for (int e = 0; e < mb; e++) {
                double m = mask == null ? 1.0 : mask.get(e * steps + t);
                int ar = (t * mb + e) * g3;
                int rr = e * g3;
                int sr = (t * mb + e) * n;
                int next = sr + mb * n;
                for (int j = 0; j < n; j++) {
                    double recR = zeroState ? 0.0 : rec.get(rr + j);
                    double recZ = zeroState ? 0.0 : rec.get(rr + n + j);
                    double recN = zeroState ? 0.0 : rec.get(rr + 2 * n + j);
                    double r = apply(gate, a.get(ar + j) + bias[j] + recR + bias[g3 + j], exact);
                    double zv = apply(gate, a.get(ar + n + j) + bias[n + j] + recZ + bias[g3 + n + j], exact);
                    double qv = recN + bias[g3 + 2 * n + j];
                    double nv = apply(act, a.get(ar + 2 * n + j) + bias[2 * n + j] + r * qv, exact);
                    double hp = h.get(sr + j);
                    a.set(ar + j, r);
                    a.set(ar + n + j, zv);
                    a.set(ar + 2 * n + j, nv);
                    q.set(sr + j, qv);
                    h.set(next + j, m * (nv + zv * (hp - nv)));
                }
            }
        }
    }

    @Override
    HostArray backRecurrence(HostArray a, HostArray q, HostArray h, HostArray dh, HostArray dA, INDArray rw,
                             int first) {
        int g3 = 3 * n;
        HostArray dR = memory.get(DR, type, (long) steps * mb * g3);
        Mat dRM = Mat.rowMajor(dR, g3);
        Mat dhM = Mat.rowMajor(dh, n);
        Mat rwM = Mat.of(HostArray.of(rw), rw);
        for (int t = steps - 1; t >= first; t--) {
            boolean propagate = t > first;
            for (int e = 0; e < mb; e++) {
                double m = mask == null ? 1.0 : mask.get(e * steps + t);
                int ar = (t * mb + e) * g3;
                int sr = (t * mb + e) * n;
                for (int j = 0; j < n; j++) {
                    double dhv = m * dh.get(sr + j);
                    double r = a.get(ar + j);
                    double zv = a.get(ar + n + j);
                    double nv = a.get(ar + 2 * n + j);
                    double hp = h.get(sr + j);
                    double dan = dhv * (1.0 - zv) * derivative(act, nv);
                    double daz = dhv * (hp - nv) * derivative(gate, zv);
                    double dar = dan * q.get(sr + j) * derivative(gate, r);
                    double drn = dan * r;
                    dA.set(ar + j, dar);
                    dA.set(ar + n + j, daz);
                    dA.set(ar + 2 * n + j, dan);
                    dR.set(ar + j, dar);
                    dR.set(ar + n + j, daz);
                    dR.set(ar + 2 * n + j, drn);
                    sums[j] += dar;
                    sums[n + j] += daz;
                    sums[2 * n + j] += dan;
                    sums[g3 + j] += dar;
                    sums[g3 + n + j] += daz;
                    sums[g3 + 2 * n + j] += drn;
                    if (propagate) {
                        int prev = sr - mb * n;
                        dh.set(prev + j, dh.get(prev + j) + dhv * zv);
                    }
                }
            }
            if (propagate) {
                Gemm.gemm(mb, n, g3, 1.0, dRM, (long) t * mb * g3, false, rwM, 0, true, 1.0, dhM,
                        (long) (t - 1) * mb * n);
            }
        }
        return dR;
    }

    @Override
    void finishGradients(HostArray x, HostArray h, HostArray q, HostArray dA, HostArray dR, int first,
                                 INDArray w, INDArray dW, INDArray dRW, INDArray epsOut, boolean ncw) {
        weightAndInputGradients(x, h, dA, dR, first, w, dW, dRW, epsOut, ncw);
    }
}
