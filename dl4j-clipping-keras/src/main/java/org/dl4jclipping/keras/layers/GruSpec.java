package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.dl4jclipping.rnn.conf.GRU;
import org.nd4j.linalg.activations.IActivation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The options of one Keras {@code GRU} layer (the inner "config" map) and the DL4J layer they become.
 *
 * <p>Mapped: {@code units}; {@code activation} and {@code recurrent_activation} ({@link KerasActivations}, by the
 * file's Keras version); {@code reset_after} (absent = false, standalone Keras's default); {@code use_bias}
 * (false: zero biases); {@code return_sequences}, {@code go_backwards} and a mask from a Keras {@code Masking}
 * layer ({@link KerasRecurrent} around the GRU). Data are NWC ([batch, time, features]) as in Keras.
 *
 * <p>Refused, naming the layer, the option and its value: {@code stateful=true}, {@code return_state=true},
 * {@code time_major=true}, activations other than tanh, sigmoid, relu, hard_sigmoid and linear. Imported with a
 * warning, because they only change training: {@code dropout}, {@code recurrent_dropout}, weight regularizers and
 * constraints. Ignored because they change nothing computed: {@code unroll}, {@code implementation}, initializers.
 */
final class GruSpec {

    private static final Logger log = LoggerFactory.getLogger(GruSpec.class);

    final String layerName;
    final long units;
    final IActivation activation;
    final IActivation recurrentActivation;
    final boolean resetAfter;
    final boolean returnSequences;
    final boolean goBackwards;
    final boolean useBias;
    final Double maskValue;

    private GruSpec(String layerName, Map<String, Object> config, ImportAnnotations annotations)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        this.layerName = layerName;
        if (annotations.kerasMajor() < 2) {
            throw new UnsupportedKerasConfigurationException("Keras GRU '" + layerName + "': saved by Keras "
                    + annotations.kerasVersion() + "; Keras 1 GRUs (output_dim, inner_activation, one weight per"
                    + " gate) are not supported: load the model in Keras 2 and save it again");
        }
        refuseTrue(config, "stateful", "DL4J's rnnTimeStep keeps state between calls instead; save the model with"
                + " stateful=False to import it");
        refuseTrue(config, "return_state", "only the output sequence or last output can be imported");
        refuseTrue(config, "time_major", "only batch-major inputs [batch, time, features] are supported");
        Object unitsValue = config.get("units");
        if (!(unitsValue instanceof Number) || ((Number) unitsValue).longValue() <= 0) {
            throw new InvalidKerasConfigurationException("Keras GRU '" + layerName + "': units must be a positive"
                    + " integer, got " + unitsValue);
        }
        this.units = ((Number) unitsValue).longValue();
        int major = annotations.kerasMajor();
        this.activation = KerasActivations.of((String) config.getOrDefault("activation", "tanh"), major,
                layerName, "activation");
        this.recurrentActivation = KerasActivations.of((String) config.getOrDefault("recurrent_activation",
                major >= 3 ? "sigmoid" : "hard_sigmoid"), major, layerName, "recurrent_activation");
        this.resetAfter = flag(config, "reset_after", false);
        this.returnSequences = flag(config, "return_sequences", false);
        this.goBackwards = flag(config, "go_backwards", false);
        this.useBias = flag(config, "use_bias", true);
        this.maskValue = annotations.maskValue();
        warnTrainingOnly(config);
        if (!useBias) {
            log.warn("Keras GRU '{}': use_bias=false; imported with zero biases, which DL4J's GRU has as parameters"
                    + " and will train if the network is fitted", layerName);
        }
    }

    /** Parses the inner configuration of a Keras GRU. */
    static GruSpec parse(Map<String, Object> config, String layerName, ImportAnnotations annotations)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        return new GruSpec(layerName, config, annotations);
    }

    /**
     * The bare GRU (NWC), without the wrappers of {@link #wrap}. Its weight init (Xavier) only matters before the
     * file's weights are copied in; it is set because DL4J gives network defaults to one level of wrappers only.
     */
    GRU gru(String name) {
        GRU.Builder b = new GRU.Builder().nOut(units).activation(activation)
                .gateActivationFunction(recurrentActivation).resetAfter(resetAfter);
        b.dataFormat(RNNFormat.NWC);
        b.weightInit(WeightInit.XAVIER);
        b.biasInit(0.0);
        b.name(name);
        return b.build();
    }

    /**
     * The GRU with what its Keras options need around it: the bare GRU when it returns sequences, forwards,
     * without a mask; otherwise {@link KerasRecurrent} (go_backwards, return_sequences false, Masking).
     */
    Layer wrap(Layer recurrent) {
        if (returnSequences && !goBackwards && maskValue == null) {
            recurrent.setLayerName(layerName);
            return recurrent;
        }
        KerasRecurrent l = new KerasRecurrent(recurrent, goBackwards, returnSequences, maskValue);
        l.setLayerName(layerName);
        return l;
    }

    private void refuseTrue(Map<String, Object> config, String key, String why)
            throws UnsupportedKerasConfigurationException {
        if (Boolean.TRUE.equals(config.get(key))) {
            throw new UnsupportedKerasConfigurationException("Keras GRU '" + layerName + "': " + key + "=true is not"
                    + " supported (" + why + ")");
        }
    }

    private boolean flag(Map<String, Object> config, String key, boolean absent)
            throws InvalidKerasConfigurationException {
        Object v = config.get(key);
        if (v == null) {
            return absent;
        }
        if (!(v instanceof Boolean)) {
            throw new InvalidKerasConfigurationException("Keras GRU '" + layerName + "': " + key + " must be true or"
                    + " false, got " + v);
        }
        return (Boolean) v;
    }

    private void warnTrainingOnly(Map<String, Object> config) {
        List<String> found = new ArrayList<>();
        for (String key : new String[] {"dropout", "recurrent_dropout"}) {
            Object v = config.get(key);
            if (v instanceof Number && ((Number) v).doubleValue() != 0.0) {
                found.add(key + "=" + v);
            }
        }
        for (String key : new String[] {"kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint"}) {
            if (config.get(key) != null) {
                found.add(key + "=" + config.get(key));
            }
        }
        if (!found.isEmpty()) {
            log.warn("Keras GRU '{}': {} only change training; imported without them (predictions are Keras's,"
                    + " fine-tuning in DL4J does not apply them)", layerName, String.join(", ", found));
        }
    }
}
