package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.recurrent.BaseRecurrentLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.common.primitives.Pair;

import java.util.Arrays;

/**
 * The GRU layer implementation for {@link GRU}: by default PyTorch {@code nn.GRU} equations,
 * <pre>
 *   r  = σ(x·W_r + b_ir + h·RW_r + b_hr)
 *   z  = σ(x·W_z + b_iz + h·RW_z + b_hz)
 *   n  = g(x·W_n + b_in + r ⊙ (h·RW_n + b_hn))
 *   h' = (1 − z) ⊙ n + z ⊙ h
 * </pre>
 * and with {@link GRU#isResetAfter()} false the reset-before variant (one bias b;
 * {@code n = g(x·W_n + b_n + (r ⊙ h)·RW_n)}, r and z without {@code b_h}), with the parameter layout of
 * {@link GRUParamInitializer} (gate blocks r, z, n).
 *
 * <p>Input/output: [minibatch, size, time] for {@link RNNFormat#NCW}, [minibatch, time, size] for
 * {@link RNNFormat#NWC}; output size nOut. Internally the sequence is copied once into a time-major matrix so that
 * the input projections of all steps are a single GEMM. On ND4J's CPU backend, with activations
 * {@link ScalarActivation} covers, both passes run {@link GruCpuKernel} (BLAS calls and fused Java loops, no ND4J op
 * per time step); otherwise (GPU backends, other activations, {@code -Dorg.dl4jclipping.rnn.cpuKernel=false})
 * {@link GRUKernel}'s ND4J ops.
 *
 * <p>Masks [minibatch, time] are handled like DL4J's LSTM: at a masked step the output is zero and the hidden state
 * carried to the next step is zero, and the step contributes exactly zero gradient to parameters and input.
 *
 * <p>State: {@link #rnnTimeStep} continues from the state of the previous call (cleared by
 * {@link #rnnClearPreviousState}); {@link #rnnActivateUsingStoredState} continues from the truncated-BPTT state, and
 * the following {@link #tbpttBackpropGradient} back-propagates through that same segment from the same initial
 * state (the gradient does not flow into earlier segments). The state key is {@value #STATE_KEY_PREV_ACTIVATION}
 * (hidden state h, [minibatch, nOut]).
 *
 * <p>References: Cho et al. 2014 (arXiv:1406.1078); PyTorch {@code torch.nn.GRU} documentation.
 */
public class GRULayer extends BaseRecurrentLayer<GRU> {

    /** State-map key of the last hidden state. */
    public static final String STATE_KEY_PREV_ACTIVATION = "prevAct";

    /** Initial hidden state of the most recent forward pass (null = zeros), reused by back-propagation. */
    private INDArray lastInitialState;

    /** The CPU kernel ({@link GruCpuKernel}), or null for the ND4J op path ({@link GRUKernel}). */
    private final GruCpuKernel cpu;
    /** What the CPU kernel's latest forward pass ran on: the backward pass reuses it when it is the current pass. */
    private ForwardKey kernelPass;

    public GRULayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        GRU c = (GRU) conf.getLayer();
        ScalarActivation act = ScalarActivation.of(c.getActivationFn());
        ScalarActivation gate = ScalarActivation.of(c.getGateActivationFn());
        cpu = RecurrentCpuKernel.available(act, gate) ? GruCpuKernel.create(act, gate, c.isResetAfter()) : null;
    }

    /** Whether this layer runs the CPU kernel (else the ND4J op path); for tests. */
    boolean usesCpuKernel() {
        return cpu != null;
    }

    @Override
    public Type type() {
        return Type.RECURRENT;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        lastInitialState = null;
        if (cpu != null) {
            return cpuForward(null, training, null, ArrayType.ACTIVATIONS, workspaceMgr);
        }
        return output(runForward(null, training, false, workspaceMgr), workspaceMgr);
    }

    @Override
    public INDArray rnnTimeStep(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        setInput(input, workspaceMgr);
        INDArray h0 = stateMap.get(STATE_KEY_PREV_ACTIVATION);
        lastInitialState = h0;
        if (cpu != null) {
            INDArray[] last = new INDArray[1];
            INDArray out = cpuForward(h0, false, last, ArrayType.ACTIVATIONS, workspaceMgr);
            stateMap.put(STATE_KEY_PREV_ACTIVATION, last[0]);
            return out;
        }
        GRUForwardPass fp = runForward(h0, false, false, workspaceMgr);
        stateMap.put(STATE_KEY_PREV_ACTIVATION, detach(fp.lastHidden()));
        return output(fp, workspaceMgr);
    }

    @Override
    public INDArray rnnActivateUsingStoredState(INDArray input, boolean training, boolean storeLastForTBPTT,
                                                LayerWorkspaceMgr workspaceMgr) {
        setInput(input, workspaceMgr);
        INDArray h0 = tBpttStateMap.get(STATE_KEY_PREV_ACTIVATION);
        lastInitialState = h0;
        if (cpu != null) {
            INDArray[] last = new INDArray[1];
            INDArray out = cpuForward(h0, training, last, ArrayType.ACTIVATIONS, workspaceMgr);
            if (storeLastForTBPTT) {
                tBpttStateMap.put(STATE_KEY_PREV_ACTIVATION, last[0]);
            }
            return out;
        }
        GRUForwardPass fp = runForward(h0, training, false, workspaceMgr);
        if (storeLastForTBPTT) {
            tBpttStateMap.put(STATE_KEY_PREV_ACTIVATION, detach(fp.lastHidden()));
        }
        return output(fp, workspaceMgr);
    }

    @Override
    public void rnnClearPreviousState() {
        super.rnnClearPreviousState();
        lastInitialState = null;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        return tbpttBackpropGradient(epsilon, -1, workspaceMgr);
    }

    @Override
    public Pair<Gradient, INDArray> tbpttBackpropGradient(INDArray epsilon, int tbpttBackLength,
                                                          LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (cpu != null) {
            return cpuBackward(epsilon, tbpttBackLength, workspaceMgr);
        }
        GRUForwardPass fp = runForward(lastInitialState, true, true, workspaceMgr);
        long mb = fp.minibatch();
        long steps = fp.steps();
        long nOut = layerConf().getNOut();
        long nIn = layerConf().getNIn();
        boolean ncw = getDataFormat() != RNNFormat.NWC;
        long firstStep = firstStep(epsilon, tbpttBackLength);
        INDArray eps3 = ncw ? epsilon.permute(2, 0, 1) : epsilon.permute(1, 0, 2);
        INDArray dOut = workspaceMgr.dup(ArrayType.BP_WORKING_MEM, eps3.castTo(dataType), 'c')
                .reshape('c', steps * mb, nOut);

        GRUWeights weights = weights(true, workspaceMgr);
        GRUWeights grads = GRUWeights.of(gradientViews);
        INDArray dx = GRUKernel.backward(fp, dOut, firstStep, weights, grads,
                layerConf().getActivationFn(), layerConf().getGateActivationFn(), workspaceMgr);

        INDArray dx3 = dx.reshape('c', steps, mb, nIn);
        INDArray epsOut;
        if (ncw) {
            epsOut = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, new long[] {mb, nIn, steps}, 'f');
            epsOut.assign(dx3.permute(1, 2, 0));
        } else {
            epsOut = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, new long[] {mb, steps, nIn}, 'c');
            epsOut.assign(dx3.permute(1, 0, 2));
        }
        return gradient(grads, epsOut);
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                          int minibatchSize) {
        // As DL4J's LSTM: the mask is used inside the layer (set via setMaskArray) and passed through unchanged.
        return new Pair<>(maskArray, MaskState.Passthrough);
    }

    /**
     * The CPU kernel's forward pass into a new array of {@code outType}; {@code last[0]} receives a detached copy of
     * the last hidden state when {@code last} is not null.
     */
    private INDArray cpuForward(INDArray h0, boolean training, INDArray[] last, ArrayType outType,
                                LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        applyDropOutIfNecessary(training, mgr);
        INDArray in = checkedInput();
        boolean ncw = getDataFormat() != RNNFormat.NWC;
        long mb = in.size(0);
        long steps = ncw ? in.size(2) : in.size(1);
        long nOut = layerConf().getNOut();
        INDArray out = mgr.createUninitialized(outType, dataType,
                ncw ? new long[] {mb, nOut, steps} : new long[] {mb, steps, nOut}, ncw ? 'f' : 'c');
        if (last != null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                last[0] = Nd4j.createUninitialized(dataType, mb, nOut);
            }
        }
        checkedMask(mb, steps);
        GRUWeights p = weights(training, mgr);
        cpu.forward(in, ncw, RecurrentCpuKernel.contiguous(p.w()), RecurrentCpuKernel.contiguous(p.rw()),
                RecurrentCpuKernel.contiguous(p.b()), p.rb() == null ? null : RecurrentCpuKernel.contiguous(p.rb()),
                checkedState(h0, mb),
                maskArray, out, last == null ? null : last[0]);
        kernelPass = new ForwardKey(input, maskArray, h0, null, training);
        return out;
    }

    /** The CPU kernel's backward pass, after its forward pass again only when the latest one was another pass. */
    private Pair<Gradient, INDArray> cpuBackward(INDArray epsilon, int tbpttBackLength, LayerWorkspaceMgr mgr) {
        int first = (int) firstStep(epsilon, tbpttBackLength);
        if (!new ForwardKey(input, maskArray, lastInitialState, null, true).equals(kernelPass)) {
            cpuForward(lastInitialState, true, null, ArrayType.BP_WORKING_MEM, mgr);
        }
        boolean ncw = getDataFormat() != RNNFormat.NWC;
        GRUWeights p = weights(true, mgr);
        GRUWeights grads = GRUWeights.of(gradientViews);
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, input.shape(), ncw ? 'f' : 'c');
        cpu.backward(epsilon, ncw, first, RecurrentCpuKernel.contiguous(p.w()), RecurrentCpuKernel.contiguous(p.rw()),
                grads.w(), grads.rw(), grads.b(), grads.rb(), dx);
        return gradient(grads, dx);
    }

    /**
     * Checks that {@code epsilon} has the output's shape for the current input, and returns the earliest step to
     * back-propagate into: 0 for full BPTT, T − {@code tbpttBackLength} for a shorter truncated-BPTT backward length.
     */
    private long firstStep(INDArray epsilon, int tbpttBackLength) {
        INDArray in = checkedInput();
        boolean ncw = getDataFormat() != RNNFormat.NWC;
        long mb = in.size(0);
        long steps = ncw ? in.size(2) : in.size(1);
        long nOut = layerConf().getNOut();
        long[] expected = ncw ? new long[] {mb, nOut, steps} : new long[] {mb, steps, nOut};
        if (!Arrays.equals(epsilon.shape(), expected)) {
            throw new IllegalArgumentException("GRU layer " + layerId() + ": epsilon must have shape "
                    + Arrays.toString(expected) + ", got " + Arrays.toString(epsilon.shape()));
        }
        return tbpttBackLength > 0 ? Math.max(0, steps - tbpttBackLength) : 0;
    }

    private Pair<Gradient, INDArray> gradient(GRUWeights grads, INDArray epsOut) {
        weightNoiseParams.clear();
        Gradient g = new DefaultGradient(gradientsFlattened);
        g.gradientForVariable().put(GRUParamInitializer.INPUT_WEIGHT_KEY, grads.w());
        g.gradientForVariable().put(GRUParamInitializer.RECURRENT_WEIGHT_KEY, grads.rw());
        g.gradientForVariable().put(GRUParamInitializer.BIAS_KEY, grads.b());
        if (grads.rb() != null) {
            g.gradientForVariable().put(GRUParamInitializer.RECURRENT_BIAS_KEY, grads.rb());
        }
        return new Pair<>(g, backpropDropOutIfPresent(epsOut));
    }

    /** The input, checked (rank 3, nIn along the format's size dimension), in the layer's data type. */
    private INDArray checkedInput() {
        if (input.rank() != 3) {
            throw new IllegalArgumentException("GRU layer " + layerId() + ": expected 3-d input ("
                    + getDataFormat() + "), got rank " + input.rank() + " with shape " + Arrays.toString(input.shape()));
        }
        boolean ncw = getDataFormat() != RNNFormat.NWC;
        INDArray in = input.dataType() == dataType ? input : input.castTo(dataType);
        long nIn = ncw ? in.size(1) : in.size(2);
        if (nIn != layerConf().getNIn()) {
            throw new IllegalArgumentException("GRU layer " + layerId() + ": input size must be nIn="
                    + layerConf().getNIn() + " along the " + (ncw ? "second (NCW)" : "third (NWC)")
                    + " dimension, got shape " + Arrays.toString(in.shape()));
        }
        return in;
    }

    private void checkedMask(long mb, long steps) {
        if (maskArray != null && (maskArray.rank() != 2 || maskArray.size(0) != mb || maskArray.size(1) != steps)) {
            throw new IllegalArgumentException("GRU layer " + layerId() + ": mask must have shape [" + mb + ", "
                    + steps + "] (minibatch, time), got " + Arrays.toString(maskArray.shape()));
        }
    }

    private GRUForwardPass runForward(INDArray h0, boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        assertInputSet(forBackprop);
        applyDropOutIfNecessary(training, mgr);
        INDArray in = checkedInput();
        boolean ncw = getDataFormat() != RNNFormat.NWC;
        long mb = in.size(0);
        long steps = ncw ? in.size(2) : in.size(1);
        long nIn = layerConf().getNIn();
        ArrayType ws = forBackprop ? ArrayType.BP_WORKING_MEM : ArrayType.FF_WORKING_MEM;
        INDArray x = mgr.dup(ws, ncw ? in.permute(2, 0, 1) : in.permute(1, 0, 2), 'c').reshape('c', steps * mb, nIn);
        INDArray mask = timeMajorMask(mb, steps, ws, mgr);
        INDArray initial = checkedState(h0, mb);
        return GRUKernel.forward(x, mb, steps, weights(training, mgr), initial, mask,
                layerConf().getActivationFn(), layerConf().getGateActivationFn(), layerConf().isResetAfter(), training,
                forBackprop, mgr);
    }

    private INDArray output(GRUForwardPass fp, LayerWorkspaceMgr mgr) {
        long mb = fp.minibatch();
        long steps = fp.steps();
        long nOut = layerConf().getNOut();
        INDArray h3 = fp.outputs().reshape('c', steps, mb, nOut);
        INDArray out;
        if (getDataFormat() == RNNFormat.NWC) {
            out = mgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, new long[] {mb, steps, nOut}, 'c');
            out.assign(h3.permute(1, 0, 2));
        } else {
            out = mgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, new long[] {mb, nOut, steps}, 'f');
            out.assign(h3.permute(1, 2, 0));
        }
        return out;
    }

    private INDArray timeMajorMask(long mb, long steps, ArrayType ws, LayerWorkspaceMgr mgr) {
        if (maskArray == null) {
            return null;
        }
        checkedMask(mb, steps);
        INDArray m = maskArray.dataType() == dataType ? maskArray : maskArray.castTo(dataType);
        return mgr.dup(ws, m.transpose(), 'c').reshape('c', steps * mb, 1);
    }

    private INDArray checkedState(INDArray h0, long mb) {
        if (h0 == null) {
            return null;
        }
        long nOut = layerConf().getNOut();
        if (h0.rank() != 2 || h0.size(0) != mb || h0.size(1) != nOut) {
            throw new IllegalStateException("GRU layer " + layerId() + ": stored state has shape "
                    + Arrays.toString(h0.shape()) + " but this input needs [" + mb + ", " + nOut
                    + "]; call rnnClearPreviousState() when the minibatch size changes");
        }
        return h0.dataType() == dataType ? h0 : h0.castTo(dataType);
    }

    private GRUWeights weights(boolean training, LayerWorkspaceMgr mgr) {
        return new GRUWeights(getParamWithNoise(GRUParamInitializer.INPUT_WEIGHT_KEY, training, mgr),
                getParamWithNoise(GRUParamInitializer.RECURRENT_WEIGHT_KEY, training, mgr),
                getParamWithNoise(GRUParamInitializer.BIAS_KEY, training, mgr),
                layerConf().isResetAfter() ? getParamWithNoise(GRUParamInitializer.RECURRENT_BIAS_KEY, training, mgr)
                        : null);
    }

    private static INDArray detach(INDArray a) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return a.dup('c');
        }
    }
}
