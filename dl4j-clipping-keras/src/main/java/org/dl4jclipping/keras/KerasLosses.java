package org.dl4jclipping.keras;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.KerasModel;
import org.deeplearning4j.nn.modelimport.keras.config.Keras2LayerConfiguration;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.layers.KerasLoss;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasLossUtils;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loss of a file's training configuration as DL4J loss layers after the model's outputs, so that the imported
 * network can be fitted. DL4J's importer adds them only while enforcing the training configuration, which this
 * import does not do (its optimizer import drops clipping and fails on Keras 2.11+ configurations).
 *
 * <p>The {@code loss} entry may be a name ({@code "mse"}, for every output), a map from output layer to name, or
 * a serialised loss object ({@code {"class_name": ..., "config": {"name": ..., "from_logits": ...}}}). Each
 * name DL4J maps (mse, mae, mape, msle, (sparse_)categorical_crossentropy, binary_crossentropy, hinge,
 * squared_hinge, kld, poisson, cosine_proximity) becomes a {@code LossLayer} with the identity activation after a
 * vector output: the model's own output activation stays where Keras has it, so predictions do not change. A loss
 * DL4J does not have (log_cosh, a Python function, from_logits=true), or one on a sequence output (DL4J
 * 1.0.0-M2.1's {@code RnnLossLayer} scores NWC data against its input instead of the labels), adds no loss layer
 * and logs a warning saying what to add before fitting.
 */
final class KerasLosses {

    private static final Logger log = LoggerFactory.getLogger(KerasLosses.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private KerasLosses() {
    }

    /** Adds the loss layers of {@code trainingConfigJson} to the model's outputs (see the class comment). */
    @SuppressWarnings("unchecked")
    static void add(KerasModel model, String trainingConfigJson, String source)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        Map<String, Object> training;
        try {
            training = JSON.readValue(trainingConfigJson, Map.class);
        } catch (JsonProcessingException e) {
            throw new KerasImportException("Training configuration of " + source + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        Object loss = training.get("loss");
        List<String> outputs = model.getOutputLayerNames();
        Map<String, Object> byOutput = new LinkedHashMap<>();
        if (loss instanceof Map && !((Map<String, Object>) loss).containsKey("config")) {
            byOutput.putAll((Map<String, Object>) loss);
        } else {
            for (String out : outputs) {
                byOutput.put(out, loss);
            }
        }
        for (Map.Entry<String, Object> e : byOutput.entrySet()) {
            String output = e.getKey();
            if (!outputs.contains(output)) {
                log.warn("Keras loss of '{}' in {}: no loss layer added, '{}' is not an output of the imported model"
                        + " (outputs: {})", output, source, output, outputs);
                continue;
            }
            String name = lossName(e.getValue());
            if (name == null || !mappable(name)) {
                log.warn("Keras loss {} of output '{}' in {} has no DL4J equivalent: no loss layer added; add an"
                        + " output or loss layer before fitting (predictions are unaffected)", e.getValue(), output,
                        source);
                continue;
            }
            if (model.getOutputTypes().get(output) instanceof InputType.InputTypeRecurrent) {
                log.warn("Keras loss '{}' of output '{}' in {}: no loss layer added, the output is a sequence and"
                        + " DL4J 1.0.0-M2.1's RnnLossLayer scores NWC data against its own input instead of the labels"
                        + " (RnnLossLayer.computeScore); to fit, add an RnnLossLayer in NCW behind"
                        + " RnnToFeedForwardPreProcessor(NWC) + FeedForwardToRnnPreProcessor(NCW), with labels"
                        + " [batch, size, time] (predictions are unaffected)", name, output, source);
                continue;
            }
            addLossLayer(model, output, name);
        }
    }

    private static void addLossLayer(KerasModel model, String output, String lossName)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        KerasLoss loss = new KerasLoss(output + "_loss", output, lossName, true);
        InputType in = model.getOutputTypes().get(output);
        model.getOutputTypes().put(loss.getLayerName(), loss.getOutputType(in));
        model.getLayersOrdered().add(loss);
        model.getLayers().put(loss.getLayerName(), loss);
        List<String> outputs = model.getOutputLayerNames();
        outputs.set(outputs.indexOf(output), loss.getLayerName());
        log.info("Keras loss '{}' of output '{}' -> DL4J {} ({})", lossName, output,
                loss.getLayer().getClass().getSimpleName(), loss.getLoss());
    }

    @SuppressWarnings("unchecked")
    private static String lossName(Object loss) {
        if (loss instanceof String) {
            return (String) loss;
        }
        if (loss instanceof Map) {
            Object config = ((Map<String, Object>) loss).get("config");
            if (config instanceof Map && !Boolean.TRUE.equals(((Map<String, Object>) config).get("from_logits"))) {
                Object name = ((Map<String, Object>) config).get("name");
                return name == null ? null : name.toString();
            }
        }
        return null;
    }

    private static boolean mappable(String name) {
        try {
            KerasLossUtils.mapLossFunction(name, new Keras2LayerConfiguration());
            return true;
        } catch (UnsupportedKerasConfigurationException e) {
            return false;
        }
    }
}
