package org.dl4jclipping.keras;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The outputs of a functional model: cutting it to the layers named outputs depend on (for models whose other
 * layers only compute a training loss, such as CTC Lambda layers), and the message for a Lambda layer DL4J
 * cannot import, which names it and both ways forward.
 */
final class FunctionalOutputs {

    private FunctionalOutputs() {
    }

    /**
     * Keeps the layers the outputs depend on (through inbound nodes), in their order, and makes the named layers
     * the model's outputs and the inputs among the kept layers its inputs.
     *
     * @param config   the model's "config" map (layers, input_layers, output_layers), changed in place
     * @param layers   its layers
     * @param outputs  the output layer names
     * @param source   the file, for messages
     * @return the kept layers
     */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> cut(Map<String, Object> config, List<Map<String, Object>> layers,
                                         List<String> outputs, String source) {
        Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
        for (Map<String, Object> layer : layers) {
            byName.put(ModelConfig.layerName(layer), layer);
        }
        Set<String> keep = new LinkedHashSet<>();
        List<String> todo = new ArrayList<>(outputs);
        while (!todo.isEmpty()) {
            String name = todo.remove(todo.size() - 1);
            if (!byName.containsKey(name)) {
                throw new KerasImportException("Keras model in " + source + " has no layer named '" + name
                        + "' (layers: " + byName.keySet() + ")");
            }
            if (keep.add(name)) {
                todo.addAll(ModelConfig.inboundNames(byName.get(name), Collections.emptyMap()));
            }
        }
        List<Map<String, Object>> kept = new ArrayList<>();
        for (Map<String, Object> layer : layers) {
            if (keep.contains(ModelConfig.layerName(layer))) {
                kept.add(layer);
            }
        }
        config.put("layers", kept);
        List<Object> inputs = new ArrayList<>();
        for (Object in : (List<Object>) config.get("input_layers")) {
            if (keep.contains(String.valueOf(((List<Object>) in).get(0)))) {
                inputs.add(in);
            }
        }
        config.put("input_layers", inputs);
        List<Object> outs = new ArrayList<>();
        for (String o : outputs) {
            outs.add(List.of(o, 0, 0));
        }
        config.put("output_layers", outs);
        return kept;
    }

    /**
     * The message for a Lambda layer DL4J cannot import: its name, the model's Lambda layers, and both ways
     * forward: name the output layer when the Lambda layers only compute a training loss (the non-input layers
     * feeding them are proposed), or register a SameDiff layer for each.
     *
     * @param layers  the model's layers
     * @param lambda  the Lambda layer DL4J named
     * @param source  the file
     */
    static String lambdaMessage(List<Map<String, Object>> layers, String lambda, String source) {
        Set<String> lambdas = new LinkedHashSet<>();
        Set<String> feeding = new LinkedHashSet<>();
        Set<String> inputs = new LinkedHashSet<>();
        for (Map<String, Object> layer : layers) {
            if ("InputLayer".equals(layer.get("class_name"))) {
                inputs.add(ModelConfig.layerName(layer));
            }
            if ("Lambda".equals(layer.get("class_name"))) {
                lambdas.add(ModelConfig.layerName(layer));
                feeding.addAll(ModelConfig.inboundNames(layer, Collections.emptyMap()));
            }
        }
        feeding.removeAll(lambdas);
        feeding.removeAll(inputs);
        return "Keras layer '" + lambda + "' in " + source + " is a Lambda layer (Python code, which cannot be"
                + " imported; Lambda layers in this model: " + lambdas + "). If they only compute a training loss,"
                + " import the inference part by naming its output layer: KerasImport.functional(path, "
                + (feeding.isEmpty() ? "\"<output layer>\"" : "\"" + String.join("\", \"", feeding) + "\"")
                + "). Otherwise register a DL4J SameDiffLambdaLayer for each before importing:"
                + " KerasLayer.registerLambdaLayer(\"" + lambda + "\", layer)";
    }
}
