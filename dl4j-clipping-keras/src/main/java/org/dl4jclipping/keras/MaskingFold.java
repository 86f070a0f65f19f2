package org.dl4jclipping.keras;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keras's {@code Masking} layers folded into the GRUs they feed. Keras passes a mask from layer to layer; DL4J's
 * import of {@code Masking} (a MaskZeroLayer around a SameDiff identity) fails outside workspaces and does not
 * pass its mask on. So the mask value goes to the GRU or Bidirectional(GRU) right after the Masking layer (which
 * computes the mask from its input, {@code KerasRecurrent}), and the Masking layer is removed.
 *
 * <p>Refused, naming the layer: a Masking layer feeding anything else (its mask would be lost), and a layer whose
 * output depends on the mask a masked GRU passes on ({@link #MASK_READERS}: recurrent, pooling and attention
 * layers). Layers that ignore the mask (Dense, Dropout, ...) may receive it.
 *
 * <p>Order of use: {@link #maskFor} for each layer in model order, then {@link #dropMaskingLayers}.
 */
final class MaskingFold {

    /** Keras layers whose output depends on the mask they receive. */
    private static final Set<String> MASK_READERS = Set.of("GRU", "LSTM", "SimpleRNN", "Bidirectional",
            "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Attention", "MultiHeadAttention");

    /** Layer name -> the mask value its output carries; NaN: a mask passed on, which cannot be recomputed. */
    private final Map<String, Double> maskOf = new HashMap<>();

    /**
     * Records what this layer does with masks and returns the mask value its GRU mapping needs.
     *
     * @param layer       the layer (class name as Keras wrote it)
     * @param inputs      the names of the layers feeding it
     * @param isGruLayer  whether it is a GRU or Bidirectional(GRU)
     * @param source      the file, for messages
     * @return the mask value of the Masking layer right before this GRU, or {@code null}
     */
    @SuppressWarnings("unchecked")
    Double maskFor(Map<String, Object> layer, List<String> inputs, boolean isGruLayer, String source) {
        String cls = String.valueOf(layer.get("class_name"));
        String name = ModelConfig.layerName(layer);
        Map<String, Object> config = (Map<String, Object>) layer.get("config");
        if ("Masking".equals(cls)) {
            maskOf.put(name, ((Number) config.getOrDefault("mask_value", 0.0)).doubleValue());
            return null;
        }
        Double mask = null;
        for (String in : inputs) {
            if (maskOf.containsKey(in)) {
                mask = maskOf.get(in);
            }
        }
        if (mask == null) {
            return null;
        }
        if (mask.isNaN()) {
            if (MASK_READERS.contains(cls)) {
                throw new KerasImportException("Keras layer '" + name + "' (" + cls + ") in " + source + " reads the"
                        + " mask passed on by a masked GRU before it; only the GRU or Bidirectional(GRU) right after"
                        + " a Masking layer can use a mask in an import");
            }
            maskOf.put(name, Double.NaN);
            return null;
        }
        if (!isGruLayer) {
            throw new KerasImportException("Keras layer '" + name + "' (" + cls + ") in " + source + " reads the mask"
                    + " of a Masking layer; only GRU and Bidirectional(GRU) layers may follow Masking in an import"
                    + " (DL4J's " + cls + " would not pass the mask on)");
        }
        Map<String, Object> gru = "Bidirectional".equals(cls)
                ? (Map<String, Object>) ((Map<String, Object>) config.get("layer")).get("config") : config;
        if (Boolean.TRUE.equals(gru.get("return_sequences"))) {
            maskOf.put(name, Double.NaN);
        }
        return mask;
    }

    /**
     * Removes the Masking layers. Their consumers read the Masking layer's input instead; a Sequential model's
     * input shape moves to the next layer.
     */
    @SuppressWarnings("unchecked")
    static void dropMaskingLayers(List<Map<String, Object>> layers, boolean sequential, String source) {
        for (int i = 0; i < layers.size(); i++) {
            Map<String, Object> masking = layers.get(i);
            if (!"Masking".equals(masking.get("class_name"))) {
                continue;
            }
            String name = ModelConfig.layerName(masking);
            if (sequential) {
                if (i + 1 >= layers.size()) {
                    throw new KerasImportException("Keras model in " + source + " ends with the Masking layer '"
                            + name + "': nothing reads its mask");
                }
                Map<String, Object> next = (Map<String, Object>) layers.get(i + 1).get("config");
                Object shape = ((Map<String, Object>) masking.get("config")).get("batch_input_shape");
                if (shape != null && !next.containsKey("batch_input_shape")) {
                    next.put("batch_input_shape", shape);
                }
            } else {
                Object replacement = ((List<Object>) ((List<Object>) masking.get("inbound_nodes")).get(0)).get(0);
                for (Map<String, Object> other : layers) {
                    Object nodes = other.get("inbound_nodes");
                    if (nodes instanceof List) {
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
            }
            layers.remove(i);
            i--;
        }
    }
}
