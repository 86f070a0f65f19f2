package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasLayerUtils;
import org.dl4jclipping.rnn.conf.GRU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Sgd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DL4J Keras-import mapping of a Keras {@code Bidirectional} wrapping a {@code GRU}: a {@link KerasBidirectional}
 * of the GRU mapped as {@link KerasGru} maps it. Merge modes: {@code concat} (the default), {@code sum},
 * {@code mul}, {@code ave}; {@code merge_mode=None} (two outputs) is refused, as is a wrapped GRU with
 * {@code go_backwards=True} or a custom {@code backward_layer}.
 *
 * <p>Weights: the datasets whose path has a segment starting with {@code forward_} go to the forward GRU
 * (DL4J parameters "fW", "fRW", "fb", "frb"), those with {@code backward_} to the backward one ("b..." keys).
 */
public class KerasBidirectionalGru extends NwcRecurrentMapping {

    private static final Logger log = LoggerFactory.getLogger(KerasBidirectionalGru.class);

    /** The class name KerasImport gives Keras Bidirectional(GRU) layers in the configuration it hands to DL4J. */
    public static final String CLASS_NAME = "dl4jclipping.BidirectionalGRU";

    private final GruSpec spec;

    /**
     * Maps a layer configuration prepared by {@code KerasImport}.
     *
     * @param layerConfig  the Keras Bidirectional configuration with {@link ImportAnnotations}
     */
    @SuppressWarnings("unchecked")
    public KerasBidirectionalGru(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig);
        Map<String, Object> outer = KerasLayerUtils.getInnerLayerConfigFromConfig(layerConfig, conf);
        if (outer.get("backward_layer") != null) {
            throw new UnsupportedKerasConfigurationException("Keras Bidirectional '" + layerName + "': a custom"
                    + " backward_layer is not supported (only the default copy of the forward GRU)");
        }
        Object mergeMode = outer.get("merge_mode");
        Bidirectional.Mode mode = mode(mergeMode);
        Map<String, Object> gruLayer = (Map<String, Object>) outer.get("layer");
        Map<String, Object> gruConfig = (Map<String, Object>) gruLayer.get("config");
        this.spec = GruSpec.parse(gruConfig, layerName, ImportAnnotations.readFrom(layerConfig, layerName));
        if (spec.goBackwards) {
            throw new UnsupportedKerasConfigurationException("Keras Bidirectional '" + layerName + "': its GRU has"
                    + " go_backwards=true, which is not supported inside Bidirectional");
        }
        // DL4J gives network defaults to a Bidirectional's direct children only, not to the GRU inside our
        // KerasRecurrent: its updater is set here to DL4J's default (SGD, learning rate 1e-3); a file's training
        // configuration replaces it (KerasTraining), as on every other layer.
        GRU gru = spec.gru(layerName);
        gru.setIUpdater(new Sgd());
        KerasRecurrent one = new KerasRecurrent(gru, false, spec.returnSequences, spec.maskValue);
        one.setLayerName(layerName);
        KerasBidirectional bi = new KerasBidirectional(mode, one);
        bi.setLayerName(layerName);
        this.layer = bi;
        if (!spec.returnSequences) {
            log.warn("Keras Bidirectional '{}': return_sequences=false imports for prediction only (DL4J's"
                    + " Bidirectional cannot backpropagate a last-step output)", layerName);
        }
    }

    private Bidirectional.Mode mode(Object mergeMode) throws UnsupportedKerasConfigurationException {
        if ("concat".equals(mergeMode)) {
            return Bidirectional.Mode.CONCAT;
        } else if ("sum".equals(mergeMode)) {
            return Bidirectional.Mode.ADD;
        } else if ("mul".equals(mergeMode)) {
            return Bidirectional.Mode.MUL;
        } else if ("ave".equals(mergeMode)) {
            return Bidirectional.Mode.AVERAGE;
        }
        throw new UnsupportedKerasConfigurationException("Keras Bidirectional '" + layerName + "': merge_mode="
                + mergeMode + " is not supported (concat, sum, mul, ave; None returns two outputs)");
    }

    @Override
    public int getNumParams() {
        return 2 * (spec.useBias ? 3 : 2);
    }

    /** @param weights the datasets of this layer's group, keyed by path relative to it */
    @Override
    public void setWeights(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String direction : new String[] {"forward", "backward"}) {
            Map<String, INDArray> mine = new LinkedHashMap<>();
            weights.forEach((path, value) -> {
                for (String segment : path.split("/")) {
                    if (segment.startsWith(direction + "_")) {
                        mine.put(path, value);
                        break;
                    }
                }
            });
            Map<String, INDArray> params = GruWeights.toParams(mine, spec.units, spec.resetAfter, spec.useBias,
                    layerName + " (" + direction + ")");
            String prefix = direction.substring(0, 1);
            params.forEach((k, v) -> out.put(prefix + k, v));
        }
        this.weights = out;
    }
}
