package org.dl4jclipping.rnn.params;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameter layout and initialisation of {@link NativeLSTM}: those of DL4J's {@code LSTMParamInitializer}, so that
 * the two layers hold the same numbers in the same places.
 *
 * <p>The flat parameter vector holds, in this order (gate blocks g, f, o, i along the columns, DL4J's order):
 * <pre>
 *   "W"  [nIn,  4·nOut]  'f' order   input weights
 *   "RW" [nOut, 4·nOut]  'f' order   recurrent weights
 *   "b"  [4·nOut]                    bias (a vector, as in DL4J's LSTM)
 * </pre>
 * Total {@code 4·nOut·(nIn + nOut + 1)} values.
 *
 * <p>Initialisation (as DL4J's LSTM): "W" by {@code weightInit} and "RW" by {@code weightInitRecurrent} if set,
 * otherwise {@code weightInit}, both with fanIn = nOut and fanOut = nIn + nOut; the forget-gate block of "b" is set
 * to {@code forgetGateBiasInit}, the rest of "b" to 0.
 */
public final class NativeLSTMParamInitializer implements ParamInitializer {

    /** Input weights [nIn, 4·nOut]. */
    public static final String INPUT_WEIGHT_KEY = "W";
    /** Recurrent weights [nOut, 4·nOut]. */
    public static final String RECURRENT_WEIGHT_KEY = "RW";
    /** Bias [4·nOut]. */
    public static final String BIAS_KEY = "b";

    private static final NativeLSTMParamInitializer INSTANCE = new NativeLSTMParamInitializer();
    private static final List<String> PARAM_KEYS = List.of(INPUT_WEIGHT_KEY, RECURRENT_WEIGHT_KEY, BIAS_KEY);
    private static final List<String> WEIGHT_KEYS = List.of(INPUT_WEIGHT_KEY, RECURRENT_WEIGHT_KEY);
    private static final List<String> BIAS_KEYS = List.of(BIAS_KEY);

    private NativeLSTMParamInitializer() {
    }

    /** The shared, stateless instance. */
    public static NativeLSTMParamInitializer getInstance() {
        return INSTANCE;
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        NativeLSTM lstm = asLstm(layer);
        return 4 * lstm.getNOut() * (lstm.getNIn() + lstm.getNOut() + 1);
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        return PARAM_KEYS;
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return WEIGHT_KEYS;
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return BIAS_KEYS;
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return WEIGHT_KEYS.contains(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return BIAS_KEYS.contains(key);
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        NativeLSTM lstm = asLstm(conf.getLayer());
        Map<String, INDArray> params = views(lstm, paramsView);
        conf.addVariable(INPUT_WEIGHT_KEY);
        conf.addVariable(RECURRENT_WEIGHT_KEY);
        conf.addVariable(BIAS_KEY);
        if (initializeParams) {
            long nIn = lstm.getNIn();
            long nOut = lstm.getNOut();
            IWeightInit inputInit = lstm.getWeightInitFn();
            if (inputInit == null) {
                throw new IllegalArgumentException("NativeLSTM: weightInit must be set (it is null)");
            }
            IWeightInit recurrentInit = lstm.getWeightInitFnRecurrent() != null
                    ? lstm.getWeightInitFnRecurrent() : inputInit;
            INDArray w = params.get(INPUT_WEIGHT_KEY);
            INDArray rw = params.get(RECURRENT_WEIGHT_KEY);
            inputInit.init(nOut, nIn + nOut, w.shape(), IWeightInit.DEFAULT_WEIGHT_INIT_ORDER,
                    w.reshape('f', new long[] {w.length()}));
            recurrentInit.init(nOut, nIn + nOut, rw.shape(), IWeightInit.DEFAULT_WEIGHT_INIT_ORDER,
                    rw.reshape('f', new long[] {rw.length()}));
            INDArray b = params.get(BIAS_KEY);
            b.assign(0);
            b.get(NDArrayIndex.interval(nOut, 2 * nOut)).assign(lstm.getForgetGateBiasInit());
        }
        return params;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        return views(asLstm(conf.getLayer()), gradientView);
    }

    private static Map<String, INDArray> views(NativeLSTM lstm, INDArray flat) {
        long nIn = lstm.getNIn();
        long nOut = lstm.getNOut();
        long g = 4 * nOut;
        long expected = g * (nIn + nOut + 1);
        if (flat.length() != expected) {
            throw new IllegalArgumentException("NativeLSTM: parameter view must have length " + expected
                    + " for nIn=" + nIn + ", nOut=" + nOut + ", got " + flat.length());
        }
        INDArray line = flat.reshape(flat.length());
        long wEnd = nIn * g;
        long rwEnd = wEnd + nOut * g;
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(INPUT_WEIGHT_KEY, line.get(NDArrayIndex.interval(0, wEnd)).reshape('f', nIn, g));
        out.put(RECURRENT_WEIGHT_KEY, line.get(NDArrayIndex.interval(wEnd, rwEnd)).reshape('f', nOut, g));
        out.put(BIAS_KEY, line.get(NDArrayIndex.interval(rwEnd, rwEnd + g)));
        return out;
    }

    private static NativeLSTM asLstm(Layer layer) {
        if (!(layer instanceof NativeLSTM)) {
            throw new IllegalArgumentException("NativeLSTMParamInitializer: expected a NativeLSTM configuration, got "
                    + (layer == null ? "null" : layer.getClass().getName()));
        }
        return (NativeLSTM) layer;
    }
}
