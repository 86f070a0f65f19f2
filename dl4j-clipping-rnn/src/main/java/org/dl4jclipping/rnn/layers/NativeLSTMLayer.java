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
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * The layer implementation of {@link NativeLSTM} (equations, parameters and supported features there): each forward
 * pass is one {@code lstmLayer} call and each backward pass one {@code lstmLayer_bp} call (which recomputes the
 * forward pass inside), both over the whole sequence, on the input as it is laid out (NCW or NWC, no copy).
 *
 * <p>Masks become the op's sequence lengths ({@link SequenceLengths}). State: {@link #rnnTimeStep} continues from
 * the state of the previous call; {@link #rnnActivateUsingStoredState} from the truncated-BPTT state, and the
 * following {@link #tbpttBackpropGradient} back-propagates through that segment from the same initial state
 * (with a backward length {@code k} shorter than the segment, through its last {@code k} steps only, from the state
 * a forward op computes at the cut). State keys as DL4J's LSTM: {@value #STATE_KEY_PREV_ACTIVATION} (h) and
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

    public NativeLSTMLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
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
        INDArray eps = contiguous(epsilon, ws, workspaceMgr);
        INDArray seqLen = sequenceLengths(mb, steps, ws, workspaceMgr);
        LstmOps.OpWeights w = opWeights(true, ws, workspaceMgr);
        INDArray h0 = checkedState(lastH0, mb, "hidden");
        INDArray c0 = checkedState(lastC0, mb, "cell");
        long[] inShape = x.shape();
        INDArray dx = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, dataType, inShape, 'c');
        LstmOps.OpWeights grads = new LstmOps.OpWeights(
                workspaceMgr.createUninitialized(ws, dataType, w.wx().shape(), 'c'),
                workspaceMgr.createUninitialized(ws, dataType, w.wr().shape(), 'c'),
                workspaceMgr.createUninitialized(ws, dataType, w.b().shape(), 'c'));

        long cut = tbpttBackLength > 0 && tbpttBackLength < steps ? steps - tbpttBackLength : 0;
        if (cut == 0) {
            LstmOps.backward(config(), x, w, seqLen, h0, c0, eps, dx, grads, ws, workspaceMgr);
        } else {
            if (seqLen != null) {
                throw new UnsupportedOperationException("NativeLSTM layer " + layerId() + ": a mask together with a "
                        + "truncated-BPTT backward length (" + tbpttBackLength + ") shorter than the segment ("
                        + steps + " steps) is not supported; set tBPTTBackwardLength equal to tBPTTForwardLength");
            }
            // The state at the cut, from a forward op over the steps before it, starts the backward op on the rest.
            INDArray hCut = workspaceMgr.createUninitialized(ws, dataType, new long[] {mb, nOut}, 'c');
            INDArray cCut = workspaceMgr.createUninitialized(ws, dataType, new long[] {mb, nOut}, 'c');
            INDArray head = contiguous(x.get(timeRange(0, cut)), ws, workspaceMgr);
            LstmOps.forward(config(), head, w, null, h0, c0, null, hCut, cCut);
            INDArray tail = contiguous(x.get(timeRange(cut, steps)), ws, workspaceMgr);
            INDArray tailEps = contiguous(eps.get(timeRange(cut, steps)), ws, workspaceMgr);
            INDArray tailDx = workspaceMgr.createUninitialized(ws, dataType, tail.shape(), 'c');
            LstmOps.backward(config(), tail, w, null, hCut, cCut, tailEps, tailDx, grads, ws, workspaceMgr);
            dx.get(timeRange(cut, steps)).assign(tailDx);
        }
        Gradient g = new DefaultGradient(gradientsFlattened);
        INDArray dW = gradientViews.get(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY);
        INDArray dRW = gradientViews.get(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY);
        INDArray db = gradientViews.get(NativeLSTMParamInitializer.BIAS_KEY);
        LstmOps.toDl4jOrder(grads, dW, dRW, db);
        g.gradientForVariable().put(NativeLSTMParamInitializer.INPUT_WEIGHT_KEY, dW);
        g.gradientForVariable().put(NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY, dRW);
        g.gradientForVariable().put(NativeLSTMParamInitializer.BIAS_KEY, db);
        weightNoiseParams.clear();
        return new Pair<>(g, backpropDropOutIfPresent(dx));
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
        INDArray seqLen = sequenceLengths(mb, steps, ws, mgr);
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
        LstmOps.forward(config(), x, opWeights(training, ws, mgr), seqLen, checkedState(h0, mb, "hidden"),
                checkedState(c0, mb, "cell"), out, hLast, cLast);
        return out;
    }

    private LstmOps.Config config() {
        NativeLSTM c = layerConf();
        return new LstmOps.Config(ncw() ? 2 : 1,
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

    private INDArrayIndex[] timeRange(long from, long to) {
        INDArrayIndex time = NDArrayIndex.interval(from, to);
        return ncw() ? new INDArrayIndex[] {NDArrayIndex.all(), NDArrayIndex.all(), time}
                : new INDArrayIndex[] {NDArrayIndex.all(), time, NDArrayIndex.all()};
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
        return contiguous(in, ws, mgr);
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
