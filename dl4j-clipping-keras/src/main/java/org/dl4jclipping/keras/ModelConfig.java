package org.dl4jclipping.keras;

import org.dl4jclipping.keras.layers.ImportAnnotations;
import org.dl4jclipping.keras.layers.KerasBidirectionalGru;
import org.dl4jclipping.keras.layers.KerasGlobalPooling1D;
import org.dl4jclipping.keras.layers.KerasGru;
import org.dl4jclipping.keras.layers.KerasSequenceDense;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Keras model configuration ({@code model_config}, or {@code model.to_json()}) rewritten into the form DL4J's
 * Keras importer reads, with the GRU layers routed to this project's mappings.
 *
 * <ul>
 *   <li>GRU layers get the class name {@link KerasGru#CLASS_NAME}, Bidirectional(GRU) layers
 *       {@link KerasBidirectionalGru#CLASS_NAME}, and both their {@link ImportAnnotations}: the file's full Keras
 *       version (hard_sigmoid changed in Keras 3) and the mask value of a {@code Masking} layer feeding them.</li>
 *   <li>Dense layers, bare or in TimeDistributed, go to {@link KerasSequenceDense}, which keeps Keras's
 *       [batch, time, units] output on sequences; 1-d global pooling to {@link KerasGlobalPooling1D}.</li>
 *   <li>A {@code Masking} layer may feed only GRU or Bidirectional(GRU) layers: another consumer fails, naming it
 *       (DL4J's layers would not pass the mask on). The mask a masked GRU passes on (return_sequences) may reach
 *       only layers whose output does not depend on it (Dense, Dropout, ...): a recurrent, pooling or attention
 *       layer reading it fails the import.</li>
 *   <li>Keras 3 files: {@code batch_shape} becomes {@code batch_input_shape}, {@code dtype} policies become their
 *       names, the version handed to DL4J (which knows Keras 1 and 2) is "2"; inbound nodes in Keras 3's form are
 *       rewritten to Keras 2's.</li>
 *   <li>Functional models: with output layer names given, the model is cut to the layers those outputs depend
 *       on; {@link #lambdaMessage} says what to do about a {@code Lambda} layer DL4J cannot import.</li>
 * </ul>
 */
final class ModelConfig {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Keras layers whose output depends on the mask they receive. */
    private static final Set<String> MASK_READERS = Set.of("GRU", "LSTM", "SimpleRNN", "Bidirectional",
            "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Attention", "MultiHeadAttention");

    private final Map<String, Object> root;
    private final String kerasVersion;
    private final String backend;

    private ModelConfig(Map<String, Object> root, String kerasVersion, String backend) {
        this.root = root;
        this.kerasVersion = kerasVersion;
        this.backend = backend;
    }

    /**
     * Parses a model configuration.
     *
     * @param json          the architecture JSON
     * @param kerasVersion  the file's keras_version attribute, or {@code null}; the JSON's own
     *                      {@code keras_version} key ({@code model.to_json()} writes it) wins over it
     * @param backend       the file's backend attribute, or {@code null} (DL4J reads it; only Theano matters)
     * @param source        the file, for messages
     */
    @SuppressWarnings("unchecked")
    static ModelConfig parse(String json, String kerasVersion, String backend, String source) {
        Map<String, Object> root;
        try {
            root = JSON.readValue(json, Map.class);
        } catch (JsonProcessingException e) {
            throw new KerasImportException("Keras model configuration in " + source + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        String version = root.get("keras_version") != null ? String.valueOf(root.get("keras_version")) : kerasVersion;
        if (version == null || version.isEmpty() || !Character.isDigit(version.charAt(0))) {
            throw new KerasImportException("Keras model configuration in " + source + ": the Keras version is"
                    + " unknown (no keras_version attribute or key, found " + version + "); it decides how"
                    + " hard_sigmoid and clipnorm are read");
        }
        return new ModelConfig(root, version, backend);
    }

    /** "Sequential", "Model" or "Functional". */
    String className() {
        return String.valueOf(root.get("class_name"));
    }

    boolean isSequential() {
        return "Sequential".equals(className());
    }

    /**
     * Rewrites the configuration (see the class comment) and returns the JSON for DL4J.
     *
     * @param outputLayerNames  the outputs to keep (functional models), or empty to keep the model's own
     * @param source            the file, for messages
     */
    String toDl4jJson(List<String> outputLayerNames, String source) {
        List<Map<String, Object>> layers = layers();
        boolean keras3 = major() >= 3;
        if (keras3 && !isSequential()) {
            Keras3Nodes.rewrite(root, layers);
        }
        if (!outputLayerNames.isEmpty()) {
            if (isSequential()) {
                throw new KerasImportException("Keras model in " + source + " is Sequential: output layer names"
                        + " apply to functional models only (got " + outputLayerNames + ")");
            }
            layers = cutToOutputs(layers, outputLayerNames, source);
        }
        Map<String, Double> maskOf = new HashMap<>();
        Map<String, String> previous = previousLayers(layers);
        for (Map<String, Object> layer : layers) {
            annotate(layer, keras3, maskOf, previous, source);
        }
        dropMaskingLayers(layers, previous, source);
        root.put("keras_version", keras3 ? "2" : kerasVersion);
        if (backend != null && !root.containsKey("backend")) {
            root.put("backend", backend);
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new KerasImportException("Cannot write the rewritten configuration of " + source, e);
        }
    }

    int major() {
        int dot = kerasVersion.indexOf('.');
        return Integer.parseInt(dot < 0 ? kerasVersion : kerasVersion.substring(0, dot));
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> layers() {
        Object config = root.get("config");
        Object layers = config instanceof Map ? ((Map<String, Object>) config).get("layers") : config;
        if (!(layers instanceof List)) {
            throw new KerasImportException("Keras model configuration has no layer list (class_name "
                    + className() + ")");
        }
        return (List<Map<String, Object>>) layers;
    }

    @SuppressWarnings("unchecked")
    private void annotate(Map<String, Object> layer, boolean keras3, Map<String, Double> maskOf,
                          Map<String, String> previous, String source) {
        String cls = String.valueOf(layer.get("class_name"));
        Map<String, Object> config = (Map<String, Object>) layer.get("config");
        String name = layerName(layer);
        if (keras3) {
            normaliseKeras3(config);
        }
        List<String> inputs = inboundNames(layer, previous);
        Double mask = null;
        for (String in : inputs) {
            if (maskOf.containsKey(in)) {
                mask = maskOf.get(in);
            }
        }
        renameDense(layer);
        boolean gru = "GRU".equals(cls);
        boolean biGru = "Bidirectional".equals(cls) && isGru(config.get("layer"));
        if ("Masking".equals(cls)) {
            Object v = config.getOrDefault("mask_value", 0.0);
            maskOf.put(name, ((Number) v).doubleValue());
            return;
        }
        if (mask != null && mask.isNaN()) {
            if (MASK_READERS.contains(cls)) {
                throw new KerasImportException("Keras layer '" + name + "' (" + cls + ") in " + source + " reads the"
                        + " mask passed on by a masked GRU before it; only the GRU or Bidirectional(GRU) right after"
                        + " a Masking layer can use a mask in an import");
            }
            maskOf.put(name, Double.NaN);
            mask = null;
        } else if (mask != null && !gru && !biGru) {
            throw new KerasImportException("Keras layer '" + name + "' (" + cls + ") in " + source + " reads the mask"
                    + " of a Masking layer; only GRU and Bidirectional(GRU) layers may follow Masking in an import"
                    + " (DL4J's " + cls + " would not pass the mask on)");
        }
        if (gru || biGru) {
            if (biGru) {
                normaliseKeras3((Map<String, Object>) ((Map<String, Object>) config.get("layer")).get("config"));
            }
            layer.put("class_name", gru ? KerasGru.CLASS_NAME : KerasBidirectionalGru.CLASS_NAME);
            new ImportAnnotations(kerasVersion, mask).writeTo(layer);
            Map<String, Object> gruConfig = gru ? config
                    : (Map<String, Object>) ((Map<String, Object>) config.get("layer")).get("config");
            if (mask != null && Boolean.TRUE.equals(gruConfig.get("return_sequences"))) {
                maskOf.put(name, Double.NaN);
            }
        }
    }

    /**
     * The message for a Lambda layer DL4J cannot import: its name, and both ways forward (name the output layer
     * when the Lambda layers only compute a training loss, e.g. the layers feeding them; or register a SameDiff
     * layer for it).
     *
     * @param lambda  the Lambda layer DL4J named
     * @param source  the file
     */
    String lambdaMessage(String lambda, String source) {
        Set<String> lambdas = new LinkedHashSet<>();
        Set<String> feeding = new LinkedHashSet<>();
        Set<String> inputs = new LinkedHashSet<>();
        for (Map<String, Object> layer : layers()) {
            if ("InputLayer".equals(layer.get("class_name"))) {
                inputs.add(layerName(layer));
            }
        }
        for (Map<String, Object> layer : layers()) {
            if ("Lambda".equals(layer.get("class_name"))) {
                lambdas.add(layerName(layer));
                for (String in : inboundNames(layer, Collections.emptyMap())) {
                    feeding.add(in);
                }
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

    /**
     * Removes the Masking layers, their mask now carried by the GRUs after them (DL4J's own Masking import, a
     * MaskZeroLayer around a SameDiff identity, fails outside workspaces and does not pass its mask on). Their
     * consumers read the Masking layer's input instead; a Sequential model's input shape moves to the next layer.
     */
    @SuppressWarnings("unchecked")
    private void dropMaskingLayers(List<Map<String, Object>> layers, Map<String, String> previous, String source) {
        for (int i = 0; i < layers.size(); i++) {
            Map<String, Object> masking = layers.get(i);
            if (!"Masking".equals(masking.get("class_name"))) {
                continue;
            }
            String name = layerName(masking);
            Map<String, Object> maskingConfig = (Map<String, Object>) masking.get("config");
            if (isSequential()) {
                if (i + 1 >= layers.size()) {
                    throw new KerasImportException("Keras model in " + source + " ends with the Masking layer '"
                            + name + "': nothing reads its mask");
                }
                Map<String, Object> next = (Map<String, Object>) layers.get(i + 1).get("config");
                Object shape = maskingConfig.get("batch_input_shape");
                if (shape != null && !next.containsKey("batch_input_shape")) {
                    next.put("batch_input_shape", shape);
                }
            } else {
                List<Object> ownInbound = (List<Object>) masking.get("inbound_nodes");
                Object replacement = ((List<Object>) ownInbound.get(0)).get(0);
                for (Map<String, Object> other : layers) {
                    Object nodes = other.get("inbound_nodes");
                    if (!(nodes instanceof List)) {
                        continue;
                    }
                    for (Object node : (List<Object>) nodes) {
                        List<Object> tensors = (List<Object>) node;
                        for (int k = 0; k < tensors.size(); k++) {
                            if (name.equals(String.valueOf(((List<Object>) tensors.get(k)).get(0)))) {
                                tensors.set(k, replacement);
                            }
                        }
                    }
                }
            }
            layers.remove(i);
            i--;
        }
    }

    /**
     * Dense, bare or in TimeDistributed, to {@link KerasSequenceDense}, which keeps sequences 3-d; 1-d global
     * pooling to {@link KerasGlobalPooling1D}, which declares its output a vector.
     */
    @SuppressWarnings("unchecked")
    private static void renameDense(Map<String, Object> layer) {
        Object cls = layer.get("class_name");
        if ("Dense".equals(cls)) {
            layer.put("class_name", KerasSequenceDense.CLASS_NAME);
        } else if ("GlobalAveragePooling1D".equals(cls) || "GlobalMaxPooling1D".equals(cls)) {
            layer.put("class_name", KerasGlobalPooling1D.PREFIX + cls);
        } else if ("TimeDistributed".equals(cls)) {
            Object inner = ((Map<String, Object>) layer.get("config")).get("layer");
            if (inner instanceof Map && "Dense".equals(((Map<String, Object>) inner).get("class_name"))) {
                ((Map<String, Object>) inner).put("class_name", KerasSequenceDense.CLASS_NAME);
            }
        }
    }

    private static boolean isGru(Object inner) {
        return inner instanceof Map && "GRU".equals(((Map<?, ?>) inner).get("class_name"));
    }

    @SuppressWarnings("unchecked")
    private static void normaliseKeras3(Map<String, Object> config) {
        if (config.containsKey("batch_shape") && !config.containsKey("batch_input_shape")) {
            config.put("batch_input_shape", config.remove("batch_shape"));
        }
        Object dtype = config.get("dtype");
        if (dtype instanceof Map) {
            Object inner = ((Map<String, Object>) dtype).get("config");
            Object name = inner instanceof Map ? ((Map<String, Object>) inner).get("name") : null;
            config.put("dtype", name == null ? "float32" : name);
        }
    }

    static String layerName(Map<String, Object> layer) {
        Object name = layer.get("name");
        if (name == null && layer.get("config") instanceof Map) {
            name = ((Map<?, ?>) layer.get("config")).get("name");
        }
        return String.valueOf(name);
    }

    /** Sequential: each layer's predecessor. Functional: empty (inbound nodes say it). */
    private Map<String, String> previousLayers(List<Map<String, Object>> layers) {
        Map<String, String> prev = new HashMap<>();
        if (!isSequential()) {
            return prev;
        }
        String last = null;
        for (Map<String, Object> layer : layers) {
            String name = layerName(layer);
            if (last != null) {
                prev.put(name, last);
            }
            last = name;
        }
        return prev;
    }

    /** Names of the layers feeding this one (Keras 2 inbound nodes: [[[name, node, tensor, kwargs], ...]]). */
    static List<String> inboundNames(Map<String, Object> layer, Map<String, String> previous) {
        String name = layerName(layer);
        if (previous.containsKey(name)) {
            return List.of(previous.get(name));
        }
        List<String> out = new ArrayList<>();
        Object nodes = layer.get("inbound_nodes");
        if (nodes instanceof List) {
            for (Object node : (List<?>) nodes) {
                if (node instanceof List) {
                    for (Object tensor : (List<?>) node) {
                        if (tensor instanceof List && !((List<?>) tensor).isEmpty()) {
                            out.add(String.valueOf(((List<?>) tensor).get(0)));
                        }
                    }
                }
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> cutToOutputs(List<Map<String, Object>> layers, List<String> outputs,
                                                   String source) {
        Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
        for (Map<String, Object> layer : layers) {
            byName.put(layerName(layer), layer);
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
                todo.addAll(inboundNames(byName.get(name), Collections.emptyMap()));
            }
        }
        List<Map<String, Object>> kept = new ArrayList<>();
        for (Map<String, Object> layer : layers) {
            if (keep.contains(layerName(layer))) {
                kept.add(layer);
            }
        }
        Map<String, Object> config = (Map<String, Object>) root.get("config");
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
}
