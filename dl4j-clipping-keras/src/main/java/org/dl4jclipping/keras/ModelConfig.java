package org.dl4jclipping.keras;

import org.dl4jclipping.keras.layers.ImportAnnotations;
import org.dl4jclipping.keras.layers.KerasBidirectionalGru;
import org.dl4jclipping.keras.layers.KerasGlobalPooling1D;
import org.dl4jclipping.keras.layers.KerasGru;
import org.dl4jclipping.keras.layers.KerasSequenceDense;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
 *   <li>{@code Masking} layers fold into the GRUs they feed ({@link MaskingFold}).</li>
 *   <li>Keras 3 files: {@code batch_shape} becomes {@code batch_input_shape}, {@code dtype} policies become their
 *       names, the version handed to DL4J (which knows Keras 1 and 2) is "2"; inbound nodes in Keras 3's form are
 *       rewritten to Keras 2's.</li>
 *   <li>Functional models: with output layer names given, the model is cut to the layers those outputs depend
 *       on ({@link FunctionalOutputs}), which also says what to do about a {@code Lambda} layer DL4J cannot
 *       import.</li>
 * </ul>
 */
final class ModelConfig {

    private static final ObjectMapper JSON = new ObjectMapper();

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
    @SuppressWarnings("unchecked")
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
            layers = FunctionalOutputs.cut((Map<String, Object>) root.get("config"), layers, outputLayerNames,
                    source);
        }
        MaskingFold masks = new MaskingFold();
        Map<String, String> previous = previousLayers(layers);
        for (Map<String, Object> layer : layers) {
            annotate(layer, keras3, masks, previous, source);
        }
        MaskingFold.dropMaskingLayers(layers, isSequential(), source);
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

    /** Keras 3 normalisation, class names of our mappings, and their annotations (Keras version, mask). */
    @SuppressWarnings("unchecked")
    private void annotate(Map<String, Object> layer, boolean keras3, MaskingFold masks,
                          Map<String, String> previous, String source) {
        String cls = String.valueOf(layer.get("class_name"));
        Map<String, Object> config = (Map<String, Object>) layer.get("config");
        if (keras3) {
            normaliseKeras3(config);
        }
        boolean gru = "GRU".equals(cls);
        boolean biGru = "Bidirectional".equals(cls) && isGru(config.get("layer"));
        Double mask = masks.maskFor(layer, inboundNames(layer, previous), gru || biGru, source);
        renameDense(layer);
        if (gru || biGru) {
            if (biGru && keras3) {
                normaliseKeras3((Map<String, Object>) ((Map<String, Object>) config.get("layer")).get("config"));
            }
            layer.put("class_name", gru ? KerasGru.CLASS_NAME : KerasBidirectionalGru.CLASS_NAME);
            new ImportAnnotations(kerasVersion, mask).writeTo(layer);
        }
    }

    /** The message for a Lambda layer DL4J named: see {@link FunctionalOutputs#lambdaMessage}. */
    String lambdaMessage(String lambda, String source) {
        return FunctionalOutputs.lambdaMessage(layers(), lambda, source);
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
}
