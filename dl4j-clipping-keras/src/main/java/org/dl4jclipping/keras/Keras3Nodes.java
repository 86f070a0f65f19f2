package org.dl4jclipping.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Keras 3's functional-model connections rewritten into Keras 2's, which DL4J reads.
 *
 * <p>Keras 3 writes a layer's inbound node as {@code {"args": [<tensor or list of tensors>], "kwargs": {...}}}
 * with each tensor {@code {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, index]}}},
 * and a model with one input or output as {@code "input_layers": [name, node, index]}. Keras 2 writes
 * {@code [[[layer, node, index, {}], ...]]} and {@code [[name, node, index]]}.
 */
final class Keras3Nodes {

    private Keras3Nodes() {
    }

    @SuppressWarnings("unchecked")
    static void rewrite(Map<String, Object> root, List<Map<String, Object>> layers) {
        Map<String, Object> config = (Map<String, Object>) root.get("config");
        for (String key : new String[] {"input_layers", "output_layers"}) {
            Object v = config.get(key);
            if (v instanceof List && !((List<?>) v).isEmpty() && ((List<?>) v).get(0) instanceof String) {
                config.put(key, List.of(v));
            }
        }
        for (Map<String, Object> layer : layers) {
            Object nodes = layer.get("inbound_nodes");
            if (!(nodes instanceof List)) {
                continue;
            }
            List<Object> rewritten = new ArrayList<>();
            for (Object node : (List<Object>) nodes) {
                if (node instanceof Map) {
                    List<Object> tensors = new ArrayList<>();
                    collect(((Map<String, Object>) node).get("args"), tensors);
                    rewritten.add(tensors);
                } else {
                    rewritten.add(node);
                }
            }
            layer.put("inbound_nodes", rewritten);
        }
    }

    @SuppressWarnings("unchecked")
    private static void collect(Object arg, List<Object> out) {
        if (arg instanceof List) {
            for (Object a : (List<Object>) arg) {
                collect(a, out);
            }
        } else if (arg instanceof Map && "__keras_tensor__".equals(((Map<String, Object>) arg).get("class_name"))) {
            Map<String, Object> c = (Map<String, Object>) ((Map<String, Object>) arg).get("config");
            List<Object> history = (List<Object>) c.get("keras_history");
            out.add(List.of(history.get(0), history.get(1), history.get(2), Map.of()));
        }
    }
}
