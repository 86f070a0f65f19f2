package org.dl4jclipping.rnn.params;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.dl4jclipping.rnn.conf.GRU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameter layout and initialisation of the {@link GRU} layer.
 *
 * <p>The flat parameter vector holds, in this order (gate blocks r, z, n along the columns):
 * <pre>
 *   "W"  [nIn,  3·nOut]  'f' order   input weights      (= PyTorch weight_ih_l0 transposed)
 *   "RW" [nOut, 3·nOut]  'f' order   recurrent weights  (= PyTorch weight_hh_l0 transposed)
 *   "b"  [1, 3·nOut]                 input bias         (= PyTorch bias_ih_l0)
 *   "rb" [1, 3·nOut]                 recurrent bias     (= PyTorch bias_hh_l0; only when {@link GRU#isResetAfter()})
 * </pre>
 * Total {@code 3·nOut·(nIn + nOut + 2)} values for the reset-after variant (the default), and
 * {@code 3·nOut·(nIn + nOut + 1)} for {@code resetAfter(false)}, which has no "rb" (its keys are "W", "RW", "b").
 * The 'f' order makes each gate's column block contiguous.
 *
 * <p>Initialisation: "W" by the layer's {@code weightInit} with fanIn = nIn, fanOut = nOut (one gate block);
 * "RW" by {@code weightInitRecurrent} if set, otherwise {@code weightInit}, with fanIn = fanOut = nOut;
 * the biases are filled with {@code biasInit} (0 unless configured). "W" and "RW" are weight parameters
 * (subject to weight regularisation and weight noise), "b" and "rb" bias parameters.
 */
public final class GRUParamInitializer implements ParamInitializer {

    /** Input weights [nIn, 3·nOut]. */
    public static final String INPUT_WEIGHT_KEY = "W";
    /** Recurrent weights [nOut, 3·nOut]. */
    public static final String RECURRENT_WEIGHT_KEY = "RW";
    /** Input bias [1, 3·nOut]. */
    public static final String BIAS_KEY = "b";
    /** Recurrent bias [1, 3·nOut]; only in the reset-after variant ({@link GRU#isResetAfter()}). */
    public static final String RECURRENT_BIAS_KEY = "rb";

    private static final GRUParamInitializer INSTANCE = new GRUParamInitializer();
    private static final List<String> PARAM_KEYS =
            List.of(INPUT_WEIGHT_KEY, RECURRENT_WEIGHT_KEY, BIAS_KEY, RECURRENT_BIAS_KEY);
    private static final List<String> PARAM_KEYS_RESET_BEFORE =
            List.of(INPUT_WEIGHT_KEY, RECURRENT_WEIGHT_KEY, BIAS_KEY);
    private static final List<String> WEIGHT_KEYS = List.of(INPUT_WEIGHT_KEY, RECURRENT_WEIGHT_KEY);
    private static final List<String> BIAS_KEYS = List.of(BIAS_KEY, RECURRENT_BIAS_KEY);
    private static final List<String> BIAS_KEYS_RESET_BEFORE = List.of(BIAS_KEY);

    private GRUParamInitializer() {
    }

    /** The shared, stateless instance. */
    public static GRUParamInitializer getInstance() {
        return INSTANCE;
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        return count(asGru(layer));
    }

    /** Length of the flat parameter vector. */
    private static long count(GRU gru) {
        return 3 * gru.getNOut() * (gru.getNIn() + gru.getNOut() + biasRows(gru));
    }

    /** Number of bias rows [1, 3·nOut]: 2 (b, rb) for the reset-after variant, 1 (b) for reset-before. */
    private static int biasRows(GRU gru) {
        return gru.isResetAfter() ? 2 : 1;
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        return asGru(layer).isResetAfter() ? PARAM_KEYS : PARAM_KEYS_RESET_BEFORE;
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return WEIGHT_KEYS;
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return asGru(layer).isResetAfter() ? BIAS_KEYS : BIAS_KEYS_RESET_BEFORE;
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return WEIGHT_KEYS.contains(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return biasKeys(layer).contains(key);
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        GRU gru = asGru(conf.getLayer());
        Map<String, INDArray> params = views(gru, paramsView);
        // DL4J's setParams, TransferLearning and ModelSerializer paths read the variable list of the configuration
        for (String key : params.keySet()) {
            if (!conf.getVariables().contains(key)) {
                conf.addVariable(key);
            }
        }
        if (initializeParams) {
            long nIn = gru.getNIn();
            long nOut = gru.getNOut();
            IWeightInit inputInit = gru.getWeightInitFn();
            IWeightInit recurrentInit = gru.getWeightInitFnRecurrent() != null
                    ? gru.getWeightInitFnRecurrent() : inputInit;
            initWeights(inputInit, nIn, nOut, params.get(INPUT_WEIGHT_KEY));
            initWeights(recurrentInit, nOut, nOut, params.get(RECURRENT_WEIGHT_KEY));
            double biasInit = Double.isNaN(gru.getBiasInit()) ? 0.0 : gru.getBiasInit();
            for (String key : BIAS_KEYS) {
                if (params.containsKey(key)) {
                    params.get(key).assign(biasInit);
                }
            }
        }
        return params;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        return views(asGru(conf.getLayer()), gradientView);
    }

    private static void initWeights(IWeightInit init, long fanIn, long fanOut, INDArray target) {
        if (init == null) {
            throw new IllegalArgumentException("GRU: weightInit must be set (it is null)");
        }
        INDArray flat = target.reshape('f', new long[] {target.length()});
        init.init(fanIn, fanOut, target.shape(), IWeightInit.DEFAULT_WEIGHT_INIT_ORDER, flat);
    }

    private static Map<String, INDArray> views(GRU gru, INDArray flat) {
        long nIn = gru.getNIn();
        long nOut = gru.getNOut();
        long expected = count(gru);
        if (flat.length() != expected) {
            throw new IllegalArgumentException("GRU: parameter view must have length " + expected + " for nIn="
                    + nIn + ", nOut=" + nOut + ", resetAfter=" + gru.isResetAfter() + ", got " + flat.length());
        }
        long g = 3 * nOut;
        long wEnd = nIn * g;
        long rwEnd = wEnd + nOut * g;
        long bEnd = rwEnd + g;
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(INPUT_WEIGHT_KEY, segment(flat, 0, wEnd).reshape('f', nIn, g));
        out.put(RECURRENT_WEIGHT_KEY, segment(flat, wEnd, rwEnd).reshape('f', nOut, g));
        out.put(BIAS_KEY, segment(flat, rwEnd, bEnd).reshape('f', 1, g));
        if (gru.isResetAfter()) {
            out.put(RECURRENT_BIAS_KEY, segment(flat, bEnd, bEnd + g).reshape('f', 1, g));
        }
        return out;
    }

    private static INDArray segment(INDArray flat, long from, long to) {
        if (flat.rank() == 1) {
            return flat.get(NDArrayIndex.interval(from, to));
        }
        return flat.get(NDArrayIndex.interval(0, 0, true), NDArrayIndex.interval(from, to));
    }

    private static GRU asGru(Layer layer) {
        if (!(layer instanceof GRU)) {
            throw new IllegalArgumentException("GRUParamInitializer: expected a GRU layer configuration, got "
                    + (layer == null ? "null" : layer.getClass().getName()));
        }
        return (GRU) layer;
    }
}
