package org.dl4jclipping.rnn.layers;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.layers.recurrent.LastTimeStepLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.TimeSeriesUtils;
import org.nd4j.common.primitives.Pair;
import org.dl4jclipping.privacy.FastLayerPath;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.dl4jclipping.rnn.layers.RecurrentRows.Bias;
import org.dl4jclipping.rnn.layers.RecurrentRows.Product;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fast path of private training ({@code org.dl4jclipping.privacy}) for recurrent layers: DL4J's {@code LSTM},
 * this project's {@link NativeLSTM} and {@link GRU} (both variants). Registered as a service, so
 * {@code PerExampleGradients.of} uses it whenever this module is on the class path.
 *
 * <p>The forward and backward passes run this module's CPU kernels ({@link LstmCpuKernel}, {@link GruCpuKernel}),
 * one per layer, held by this path (DL4J's {@code LSTM} has the same gate layout g, f, o, i as {@link NativeLSTM}).
 * The backward pass stops at the gate errors and the input gradient: it does not form the batch's weight
 * gradient. What the kernel keeps is then the per-example gradient in factored form ({@link RecurrentRows}): with
 * {@code x_t} the step's input, {@code h_{t-1}} the state it starts from and {@code dz_t} the errors at the gates'
 * pre-activations (zero at masked steps), example {@code i}'s gradient is
 * <pre>
 *   LSTM:                 dW_i = sum_t x_ti^T dz_ti,   dRW_i = sum_t h_(t-1)i^T dz_ti,   db_i = sum_t dz_ti
 *   GRU, reset after:     dW_i = sum_t x^T dA,  dRW_i = sum_t h_(t-1)^T dR,  db_i = sum_t dA,  drb_i = sum_t dR
 *   GRU, reset before:    dW_i = sum_t x^T dA,  dRW_i[r,z] = sum_t h_(t-1)^T dA[r,z],  dRW_i[n] = sum_t (r o h_(t-1))^T dA[n]
 * </pre>
 * ({@code dA} the errors of the input projections, {@code dR} those of the recurrent ones).
 *
 * <p>Also inside DL4J's {@code LastTimeStep} wrapper (the sequence classifiers' "last step" pooling): each
 * example's output at its last unmasked step, and the error put back at that step.
 *
 * <p>Covered: the CPU backend, activations the kernels compute ({@link ScalarActivation}), no dropout and no weight
 * noise on the layer (else the layer runs on the generic path: {@link #handles} is false). Masks: any mask for the
 * GRU; for the LSTMs, masks that are ones then zeros per example (variable lengths); a mask with gaps makes that
 * batch take the generic path ({@link FastLayerPath.NotApplicable}). Not thread-safe (one training thread per
 * network, as DL4J's own layers).
 */
public final class RecurrentFastPath implements FastLayerPath {

    /** Per layer, the kernel and scratch memory: held weakly and matched by identity (layers define equals). */
    private final List<State> states = new ArrayList<>();

    /** For {@code java.util.ServiceLoader}. */
    public RecurrentFastPath() {
    }

    /** Which layer types and options this path computes, as a kernel description; null for others. */
    private record Spec(boolean gru, boolean resetAfter, ScalarActivation act, ScalarActivation gate, boolean ncw) {
    }

    private static Spec spec(Layer layer) {
        Class<?> type = layer.getClass();
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        IActivation act;
        IActivation gate;
        boolean gru = false;
        boolean resetAfter = false;
        if (type == org.deeplearning4j.nn.layers.recurrent.LSTM.class) {
            org.deeplearning4j.nn.conf.layers.LSTM c = (org.deeplearning4j.nn.conf.layers.LSTM) conf;
            act = c.getActivationFn();
            gate = c.getGateActivationFn();
        } else if (type == NativeLSTMLayer.class) {
            act = ((NativeLSTM) conf).getActivationFn();
            gate = ((NativeLSTM) conf).getGateActivationFn();
        } else if (type == GRULayer.class) {
            GRU c = (GRU) conf;
            act = c.getActivationFn();
            gate = c.getGateActivationFn();
            gru = true;
            resetAfter = c.isResetAfter();
        } else {
            return null;
        }
        ScalarActivation a = ScalarActivation.of(act);
        ScalarActivation g = ScalarActivation.of(gate);
        if (conf.getIDropout() != null || ((BaseLayer) conf).getWeightNoise() != null
                || !RecurrentCpuKernel.available(a, g)) {
            return null;
        }
        return new Spec(gru, resetAfter, a, g, ((BaseRecurrentLayer) conf).getRnnDataFormat() != RNNFormat.NWC);
    }

    @Override
    public boolean handles(Layer layer) {
        return spec(inner(layer)) != null;
    }

    /** The recurrent layer itself, or the one inside DL4J's {@code LastTimeStep} wrapper. */
    private static Layer inner(Layer layer) {
        return layer instanceof LastTimeStepLayer wrapper ? wrapper.getUnderlying() : layer;
    }

    @Override
    public INDArray activate(Layer layer, INDArray input, LayerWorkspaceMgr mgr) {
        if (layer instanceof LastTimeStepLayer wrapper) {
            return lastSteps(wrapper, activate(wrapper.getUnderlying(), input, mgr), mgr);
        }
        State s = state(layer);
        Spec spec = s.spec;
        INDArray w = param(layer, "W");
        INDArray rw = param(layer, "RW");
        DataType type = w.dataType();
        INDArray x = input.dataType() == type ? input : input.castTo(type);
        if (x.rank() != 3) {
            throw new IllegalArgumentException(name(layer) + ": expected 3-d input, got shape "
                    + Arrays.toString(x.shape()));
        }
        long mb = x.size(0);
        long steps = spec.ncw() ? x.size(2) : x.size(1);
        long n = rw.size(0);
        INDArray out = Nd4j.createUninitialized(type, spec.ncw() ? new long[] {mb, n, steps}
                : new long[] {mb, steps, n}, 'c');
        INDArray mask = layer.getMaskArray();
        if (spec.gru()) {
            if (mask != null && (mask.rank() != 2 || mask.size(0) != mb || mask.size(1) != steps)) {
                throw new IllegalArgumentException(name(layer) + ": mask must have shape [" + mb + ", " + steps
                        + "], got " + Arrays.toString(mask.shape()));
            }
            ((GruCpuKernel) s.kernel).forward(x, spec.ncw(), w, rw, param(layer, "b"),
                    spec.resetAfter() ? param(layer, "rb") : null, null, mask, out, null);
        } else {
            int[] lengths = null;
            if (mask != null) {
                try {
                    lengths = SequenceLengths.lengths(mask, mb, steps, name(layer));
                } catch (IllegalArgumentException e) {
                    throw new NotApplicable(name(layer) + " has a mask that is not ones then zeros per example "
                            + "(the fast path's kernel takes sequence lengths): " + e.getMessage());
                }
            }
            ((LstmCpuKernel) s.kernel).forward(x, spec.ncw(), w, rw, param(layer, "b"), null, null,
                    lengths, out, null, null);
        }
        s.inputShape = x.shape();
        return out;
    }

    /**
     * DL4J's {@code LastTimeStep}: each example's output at its last unmasked step ({@code TimeSeriesUtils}, as the
     * wrapper computes it), the steps kept for the backward pass.
     */
    private INDArray lastSteps(LastTimeStepLayer wrapper, INDArray out, LayerWorkspaceMgr mgr) {
        Layer layer = wrapper.getUnderlying();
        State s = state(layer);
        s.outputShape = out.shape();
        INDArray ncw = s.spec.ncw() ? out : out.permute(0, 2, 1);
        Pair<INDArray, int[]> p = TimeSeriesUtils.pullLastTimeSteps(ncw, layer.getMaskArray(), mgr,
                ArrayType.ACTIVATIONS);
        s.lastSteps = p.getSecond();
        return p.getFirst();
    }

    @Override
    public Step backward(Layer layer, INDArray epsilon, FastBatch batch) {
        if (layer instanceof LastTimeStepLayer wrapper) {
            return backward(wrapper.getUnderlying(), atLastSteps(wrapper.getUnderlying(), epsilon), batch);
        }
        State s = state(layer);
        Spec spec = s.spec;
        INDArray w = param(layer, "W");
        INDArray rw = param(layer, "RW");
        INDArray below = batch.needBelow() ? Nd4j.createUninitialized(w.dataType(), s.inputShape, 'c') : null;
        RecurrentCpuKernel k = s.kernel;
        int g;
        List<Product> products = new ArrayList<>();
        List<Bias> biases = new ArrayList<>();
        DataType type = w.dataType();
        if (spec.gru()) {
            ((GruCpuKernel) k).backward(epsilon, spec.ncw(), 0, w, rw, null, null, null, null, below);
            g = 3 * k.n;
            HostArray dA = k.memory.get(GruCpuKernel.DA, type, 0);
            products.add(new Product("W", 0, g, k.memory.get(RecurrentCpuKernel.X, type, 0), k.nIn, dA, g));
            biases.add(new Bias("b", dA, g));
            HostArray h = k.memory.get(RecurrentCpuKernel.HIDDEN, type, 0);
            if (spec.resetAfter()) {
                HostArray dR = k.memory.get(GruCpuKernel.DR, type, 0);
                products.add(new Product("RW", 0, g, h, k.n, dR, g));
                biases.add(new Bias("rb", dR, g));
            } else {
                products.add(new Product("RW", 0, 2 * k.n, h, k.n, dA, g));
                products.add(new Product("RW", 2 * k.n, k.n, k.memory.get(GruCpuKernel.REC_N, type, 0), k.n, dA,
                        g));
            }
        } else {
            ((LstmCpuKernel) k).backward(epsilon, spec.ncw(), 0, w, rw, null, null, null, below);
            g = 4 * k.n;
            HostArray dz = k.memory.get(LstmCpuKernel.DZ, type, 0);
            products.add(new Product("W", 0, g, k.memory.get(RecurrentCpuKernel.X, type, 0), k.nIn, dz, g));
            products.add(new Product("RW", 0, g, k.memory.get(RecurrentCpuKernel.HIDDEN, type, 0), k.n, dz, g));
            biases.add(new Bias("b", dz, g));
        }
        return new Step(new RecurrentRows(k.mb, k.steps, type, products, biases, s.scratch), below);
    }

    /** The error of the last steps spread back over the sequence: zero at every other step. */
    private INDArray atLastSteps(Layer layer, INDArray epsilon) {
        State s = state(layer);
        Spec spec = s.spec;
        INDArray full = Nd4j.create(epsilon.dataType(), s.outputShape, 'c');
        int mb = (int) s.outputShape[0];
        int n = (int) s.outputShape[spec.ncw() ? 1 : 2];
        int steps = (int) s.outputShape[spec.ncw() ? 2 : 1];
        HostArray to = HostArray.of(full);
        HostArray from = HostArray.of(epsilon.dup('c'));
        for (int i = 0; i < mb; i++) {
            int t = s.lastSteps == null ? steps - 1 : s.lastSteps[i];
            for (int j = 0; j < n; j++) {
                to.set(spec.ncw() ? (i * n + j) * steps + t : (i * steps + t) * n + j, from.get(i * n + j));
            }
        }
        return full;
    }

    private static INDArray param(Layer layer, String key) {
        return RecurrentCpuKernel.contiguous(layer.getParam(key));
    }

    private static String name(Layer layer) {
        return "layer " + layer.getIndex() + " (\"" + layer.conf().getLayer().getLayerName() + "\", "
                + layer.conf().getLayer().getClass().getSimpleName() + ")";
    }

    /**
     * The state of {@code layer}'s path (a layer {@link #handles}): created at its first batch with the layer's
     * {@link Spec} (a layer's configuration does not change), dropped when the layer is collected.
     */
    private State state(Layer layer) {
        synchronized (states) {
            states.removeIf(s -> s.layer.get() == null);
            for (State s : states) {
                if (s.layer.get() == layer) {
                    return s;
                }
            }
            Spec spec = spec(layer);
            RecurrentCpuKernel kernel = spec.gru() ? GruCpuKernel.create(spec.act(), spec.gate(), spec.resetAfter())
                    : new LstmCpuKernel(spec.act(), spec.gate());
            State s = new State(new WeakReference<>(layer), spec, kernel, new KernelMemory(RecurrentRows.SLOTS));
            states.add(s);
            return s;
        }
    }

    private static final class State {
        final WeakReference<Layer> layer;
        final Spec spec;
        final RecurrentCpuKernel kernel;
        final KernelMemory scratch;
        long[] inputShape;
        /** {@code LastTimeStep} only: the wrapped layer's output shape and each example's last step (null: T - 1). */
        long[] outputShape;
        int[] lastSteps;

        State(WeakReference<Layer> layer, Spec spec, RecurrentCpuKernel kernel, KernelMemory scratch) {
            this.layer = layer;
            this.spec = spec;
            this.kernel = kernel;
            this.scratch = scratch;
        }
    }
}
