package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.recurrent.BaseRecurrentLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.dl4jclipping.rnn.params.NativeLSTMParamInitializer;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * The layer implementation of {@link NativeLSTM} (equations, parameters and supported features there). On ND4J's
 * CPU backend both passes run {@link LstmCpuKernel}: BLAS calls and fused Java loops, no ND4J op per time step, the
 * forward pass's arrays kept for the backward pass. Elsewhere (GPU backends, or with
 * {@code -Dorg.dl4jclipping.rnn.cpuKernel=false}) the op path: each forward pass is one libnd4j {@code lstmLayer}
 * call over the whole sequence, on the input as it is laid out; the backward pass runs the forward op once more
 * (time-major) for the hidden states and then {@link LstmBackward}: batched GEMMs and one small GEMM per step, not
 * libnd4j's {@code lstmLayer_bp}, which leaks native memory on every call in ND4J 1.0.0-M2.1.
 *
 * <p>Masks become sequence lengths ({@link SequenceLengths}). State: {@link #rnnTimeStep} continues from
 * the state of the previous call; {@link #rnnActivateUsingStoredState} from the truncated-BPTT state, and the
 * following backward pass back-propagates through that segment from the same initial state (with a backward
 * length {@code k} shorter than the segment, through its last {@code k} steps only). State keys as DL4J's LSTM: {@value #STATE_KEY_PREV_ACTIVATION} (h) and
 * {@value #STATE_KEY_PREV_MEMCELL} (c), [minibatch, nOut].
 */
public class NativeLSTMLayer extends BaseRecurrentLayer<NativeLSTM> {

    /** State-map key of the last hidden state (DL4J's LSTM uses the same). */
    public static final String STATE_KEY_PREV_ACTIVATION = "prevAct";
    /** State-map key of the last cell state (DL4J's LSTM uses the same). */
    public static final String STATE_KEY_PREV_MEMCELL = "prevMem";

    private INDArray lastH0;
    private INDArray lastC0;
    /** The last h and c of the latest truncated-BPTT forward pass; stored as the TBPTT state by the backward pass. */
    private INDArray[] segmentEnd;

    /** The CPU kernel (see the class comment), or null for the op path. */
    private final LstmCpuKernel cpu;
    /** What the CPU kernel's latest forward pass ran on: the backward pass reuses it when it is the current pass. */
    private ForwardKey kernelPass;

    public NativeLSTMLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        NativeLSTM c = (NativeLSTM) conf.getLayer();
        ScalarActivation act = ScalarActivation.of(c.getActivationFn());
        ScalarActivation gate = ScalarActivation.of(c.getGateActivationFn());
        cpu = RecurrentCpuKernel.available(act, gate) ? new LstmCpuKernel(act, gate) : null;
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
        lastH0 = null;
        lastC0 = null;
        segmentEnd = null;
        return forward(training, null, null, null, workspaceMgr);
    }

    @Override
    public INDArray rnnTimeStep(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        setInput(input, workspaceMgr);
        INDArray[] last = new INDArray[2];
        INDArray out = forward(false, stateMap.get(STATE_KEY_PREV_ACTIVATION), stateMap.get(STATE_KEY_PREV_MEMCELL),
                last, workspaceMgr);
        stateMap.put(STATE_KEY_PREV_ACTIVATION, last[0]);
        stateMap.put(STATE_KEY_PREV_MEMCELL, last[1]);
        return out;
    }

    @Override
    public INDArray rnnActivateUsingStoredState(INDArray input, boolean training, boolean storeLastForTBPTT,
                                                LayerWorkspaceMgr workspaceMgr) {
        setInput(input, workspaceMgr);
        lastH0 = tBpttStateMap.get(STATE_KEY_PREV_ACTIVATION);
        lastC0 = tBpttStateMap.get(STATE_KEY_PREV_MEMCELL);
        INDArray[] last = new INDArray[2];
        INDArray out = forward(training, lastH0, lastC0, last, workspaceMgr);
        segmentEnd = last;
        if (storeLastForTBPTT) {
            storeTbpttState(last);
        }
        return out;
    }

    private void storeTbpttState(INDArray[] last) {
        tBpttStateMap.put(STATE_KEY_PREV_ACTIVATION, last[0]);
        tBpttStateMap.put(STATE_KEY_PREV_MEMCELL, last[1]);
    }

    @Override
    public void rnnClearPreviousState() {
        super.rnnClearPreviousState();
        lastH0 = null;
        lastC0 = null;
        segmentEnd = null;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        return backward(epsilon, -1, workspaceMgr);
    }

    /**
     * As DL4J's LSTM, the backward pass of a truncated-BPTT segment also stores the segment's last state as the
     * state the next segment starts from (MultiLayerNetwork's training forward pass does not ask for it).
     */
    @Override
    public Pair<Gradient, INDArray> tbpttBackpropGradient(INDArray epsilon, int tbpttBackLength,
                                                          LayerWorkspaceMgr workspaceMgr) {
        if (segmentEnd != null) {
            storeTbpttState(segmentEnd);
        }
        return backward(epsilon, tbpttBackLength, workspaceMgr);
    }

    private Pair<Gradient, INDArray> backward(INDArray epsilon, int tbpttBackLength, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        ArrayType ws = ArrayType.BP_WORKING_MEM;
        INDArray x = checkedInput(false, ws, workspaceMgr);
        long mb = x.size(0);
        long steps = steps(x);
        long nOut = layerConf().getNOut();
        boolean ncw = ncw();
        long[] expected = ncw ? new long[] {mb, nOut, steps} : new long[] {mb, steps, nOut};
        if (!Arrays.equals(epsilon.shape(), expected)) {
            throw new IllegalArgumentException("NativeLSTM layer " + layerId() + ": epsilon must have shape "
                    + Arrays.toString(expected) + ", got " + Arrays.toString(epsilon.shape()));
        }
        long first = tbpttBackLength > 0 && tbpttBackLength < steps ? steps - tbpttBackLength : 0;
        if (cpu != null) {
            return cpuBackward(epsilon, (int) first, workspaceMgr);
        }
        long nIn = layerConf().getNIn();
        INDArray xTm = workspaceMgr.dup(ws, ncw ? x.permute(2, 0, 1) : x.permute(1, 0, 2), 'c')
                .reshape('c', steps * mb, nIn);
        INDArray epsTm = workspaceMgr.dup(ws, (ncw ? epsilon.permute(2, 0, 1) : epsilon.permute(1, 0, 2))
                .castTo(dataType), 'c').reshape('c', steps * mb, nOut);
        INDArray seqLen = sequenceLengths(mb, steps, ws, workspaceMgr);
        INDArray maskTm = maskArray == null ? null : workspaceMgr.dup(ws, maskArray.castTo(dataType).transpose(), 'c')
                .reshape('c', steps * mb, 1);
        INDArray h0 = checkedState(lastH0, mb, "hidden");
        INDArray c0 = checkedState(lastC0, mb, "cell");

        // The forward op again (time-major), for the hidden states the backward pass starts from: h0, then h_t.
        INDArray hAll = workspaceMgr.create(ws, dataType, new long[] {(steps + 1) * mb, nOut}, 'c');
        if (h0 != null) {
            GRUKernel.rows(hAll, 0, mb).assign(h0);
        }
        INDArray hOut = workspaceMgr.createUninitialized(ws, dataType, new long[] {steps, mb, nOut}, 'c');
        LstmOps.forward(config(0), xTm.reshape('c', steps, mb, nIn), opWeights(true, ws, workspaceMgr), seqLen, h0,
                c0, hOut, null, null);
        GRUKernel.rows(hAll, mb, (steps + 1) * mb).assign(hOut.reshape('c', steps * mb, nOut));

        INDArray dW = gradientViews.get(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY);
        INDArray dRW = gradientViews.get(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY);
        INDArray db = gradientViews.get(NativeLSTMParamInitializer.BIAS_KEY);
        NativeLSTM c = layerConf();
        INDArray dxTm = LstmBackward.run(xTm, hAll, c0, maskTm, epsTm, mb, steps, first,
                getParamWithNoise(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY, true, workspaceMgr),
                getParamWithNoise(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY, true, workspaceMgr),
                getParamWithNoise(NativeLSTMParamInitializer.BIAS_KEY, true, workspaceMgr),
                c.getActivationFn(), c.getGateActivationFn(), dW, dRW, db, workspaceMgr);
        INDArray dx3 = dxTm.reshape('c', steps, mb, nIn);
        INDArray dx;
        if (ncw) {
            dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, new long[] {mb, nIn, steps}, 'f');
            dx.assign(dx3.permute(1, 2, 0));
        } else {
            dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, new long[] {mb, steps, nIn}, 'c');
            dx.assign(dx3.permute(1, 0, 2));
        }
        return result(dx);
    }

    private Pair<Gradient, INDArray> result(INDArray dx) {
        Gradient g = new DefaultGradient(gradientsFlattened);
        for (String key : new String[] {NativeLSTMParamInitializer.INPUT_WEIGHT_KEY,
                NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY, NativeLSTMParamInitializer.BIAS_KEY}) {
            g.gradientForVariable().put(key, gradientViews.get(key));
        }
        weightNoiseParams.clear();
        return new Pair<>(g, backpropDropOutIfPresent(dx));
    }

    /** The CPU kernel's backward pass, after its forward pass again only when the latest one was another pass. */
    private Pair<Gradient, INDArray> cpuBackward(INDArray epsilon, int first, LayerWorkspaceMgr mgr) {
        if (!new ForwardKey(input, maskArray, lastH0, lastC0, true).equals(kernelPass)) {
            INDArray x = checkedInput(false, ArrayType.BP_WORKING_MEM, mgr);
            long[] shape = ncw() ? new long[] {x.size(0), layerConf().getNOut(), steps(x)}
                    : new long[] {x.size(0), steps(x), layerConf().getNOut()};
            cpuForward(x, true, lastH0, lastC0, null,
                    mgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, shape, 'c'), mgr);
        }
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, input.shape(), ncw() ? 'f' : 'c');
        cpu.backward(epsilon, ncw(), first, param(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY, true, mgr),
                param(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY, true, mgr),
                gradientViews.get(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY),
                gradientViews.get(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY),
                gradientViews.get(NativeLSTMParamInitializer.BIAS_KEY), dx);
        return result(dx);
    }

    private void cpuForward(INDArray x, boolean training, INDArray h0, INDArray c0, INDArray[] last, INDArray out,
                            LayerWorkspaceMgr mgr) {
        long mb = x.size(0);
        int[] lengths = maskArray == null ? null : SequenceLengths.lengths(maskArray, mb, steps(x), layerId());
        cpu.forward(x, ncw(), param(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY, training, mgr),
                param(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY, training, mgr),
                param(NativeLSTMParamInitializer.BIAS_KEY, training, mgr), checkedState(h0, mb, "hidden"),
                checkedState(c0, mb, "cell"), lengths, out, last == null ? null : last[0],
                last == null ? null : last[1]);
        kernelPass = new ForwardKey(input, maskArray, h0, c0, training);
    }

    private INDArray param(String key, boolean training, LayerWorkspaceMgr mgr) {
        return RecurrentCpuKernel.contiguous(getParamWithNoise(key, training, mgr));
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                          int minibatchSize) {
        // As DL4J's LSTM: the mask is used inside the layer (set via setMaskArray) and passed through unchanged.
        return new Pair<>(maskArray, MaskState.Passthrough);
    }

    /** One forward op; fills {@code last} with detached copies of the last h and c when it is not null. */
    private INDArray forward(boolean training, INDArray h0, INDArray c0, INDArray[] last, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        applyDropOutIfNecessary(training, mgr);
        ArrayType ws = ArrayType.FF_WORKING_MEM;
        INDArray x = checkedInput(true, ws, mgr);
        long mb = x.size(0);
        long steps = steps(x);
        long nOut = layerConf().getNOut();
        INDArray seqLen = cpu != null ? null : sequenceLengths(mb, steps, ws, mgr);
        long[] outShape = ncw() ? new long[] {mb, nOut, steps} : new long[] {mb, steps, nOut};
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, outShape, 'c');
        INDArray hLast = null;
        INDArray cLast = null;
        if (last != null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                hLast = Nd4j.createUninitialized(dataType, mb, nOut);
                cLast = Nd4j.createUninitialized(dataType, mb, nOut);
            }
            last[0] = hLast;
            last[1] = cLast;
        }
        if (cpu != null) {
            cpuForward(x, training, h0, c0, last, out, mgr);
            return out;
        }
        LstmOps.forward(config(ncw() ? 2 : 1), x, opWeights(training, ws, mgr), seqLen, checkedState(h0, mb, "hidden"),
                checkedState(c0, mb, "cell"), out, hLast, cLast);
        return out;
    }

    /** The op's configuration for data format {@code format} (0 time-major, 1 NWC, 2 NCW). */
    private LstmOps.Config config(int format) {
        NativeLSTM c = layerConf();
        return new LstmOps.Config(format,
                NativeLSTM.nativeActivation(c.getLayerName(), "gateActivationFunction", c.getGateActivationFn()),
                NativeLSTM.nativeActivation(c.getLayerName(), "activation", c.getActivationFn()));
    }

    private LstmOps.OpWeights opWeights(boolean training, ArrayType ws, LayerWorkspaceMgr mgr) {
        return LstmOps.toOpOrder(getParamWithNoise(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY, training, mgr),
                getParamWithNoise(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY, training, mgr),
                getParamWithNoise(NativeLSTMParamInitializer.BIAS_KEY, training, mgr), ws, mgr);
    }

    private boolean ncw() {
        return getDataFormat() != RNNFormat.NWC;
    }

    private long steps(INDArray x) {
        return ncw() ? x.size(2) : x.size(1);
    }

    /** The input, checked, in the layer's type and 'c' order (copied only when it is not already). */
    private INDArray checkedInput(boolean forward, ArrayType ws, LayerWorkspaceMgr mgr) {
        if (input.rank() != 3) {
            throw new IllegalArgumentException("NativeLSTM layer " + layerId() + ": expected 3-d input ("
                    + getDataFormat() + "), got rank " + input.rank() + " with shape " + Arrays.toString(input.shape()));
        }
        long nIn = ncw() ? input.size(1) : input.size(2);
        if (nIn != layerConf().getNIn()) {
            throw new IllegalArgumentException("NativeLSTM layer " + layerId() + ": input size must be nIn="
                    + layerConf().getNIn() + " along the " + (ncw() ? "second (NCW)" : "third (NWC)")
                    + " dimension, got shape " + Arrays.toString(input.shape()));
        }
        INDArray in = input.dataType() == dataType ? input : input.castTo(dataType);
        return cpu != null ? in : contiguous(in, ws, mgr);   // the CPU kernel copies it time-major anyway
    }

    private static INDArray contiguous(INDArray a, ArrayType ws, LayerWorkspaceMgr mgr) {
        if (a.ordering() == 'c' && a.elementWiseStride() == 1) {
            return a;
        }
        return mgr.dup(ws, a, 'c');
    }

    private INDArray sequenceLengths(long mb, long steps, ArrayType ws, LayerWorkspaceMgr mgr) {
        return maskArray == null ? null : SequenceLengths.of(maskArray, mb, steps, dataType, layerId(), ws, mgr);
    }

    private INDArray checkedState(INDArray state, long mb, String what) {
        if (state == null) {
            return null;
        }
        long nOut = layerConf().getNOut();
        if (state.rank() != 2 || state.size(0) != mb || state.size(1) != nOut) {
            throw new IllegalStateException("NativeLSTM layer " + layerId() + ": stored " + what + " state has shape "
                    + Arrays.toString(state.shape()) + " but this input needs [" + mb + ", " + nOut
                    + "]; call rnnClearPreviousState() when the minibatch size changes");
        }
        return state.dataType() == dataType ? state : state.castTo(dataType);
    }
}
