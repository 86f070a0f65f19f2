package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Keras GRU weights to this project's GRU parameters.
 *
 * <p>Keras stores {@code kernel} [nIn, 3u] and {@code recurrent_kernel} [u, 3u] with the gate blocks along the
 * columns in the order z (update), r (reset), h (candidate); {@code bias} is [2, 3u] with {@code reset_after}
 * true (row 0 the input bias, row 1 the recurrent bias) and [3u] with it false. The GRU's parameters hold the same
 * blocks in the order r, z, n (PyTorch's), so each matrix is rebuilt as
 * <pre>
 *   ours = [ keras[:, u:2u] | keras[:, 0:u] | keras[:, 2u:3u] ]
 * </pre>
 * and: "W" = kernel, "RW" = recurrent_kernel, "b" = bias row 0 (or the one bias), "rb" = bias row 1 (only with
 * reset_after). A layer without bias ({@code use_bias=false}) gets zero biases.
 */
final class GruWeights {

    /** Names of the datasets in a GRU cell's group, with or without tf.keras's ":0" suffix. */
    static final String KERNEL = "kernel";
    static final String RECURRENT_KERNEL = "recurrent_kernel";
    static final String BIAS = "bias";

    private GruWeights() {
    }

    /**
     * The DL4J parameters of one GRU from the datasets of its group.
     *
     * @param byPath      the datasets (path relative to the layer group -> array) of this one GRU
     * @param units       u
     * @param resetAfter  Keras's reset_after
     * @param useBias     Keras's use_bias
     * @param layerName   for messages
     */
    static Map<String, INDArray> toParams(Map<String, INDArray> byPath, long units, boolean resetAfter,
                                          boolean useBias, String layerName)
            throws InvalidKerasConfigurationException {
        INDArray kernel = find(byPath, KERNEL, layerName);
        INDArray recurrent = find(byPath, RECURRENT_KERNEL, layerName);
        long g = 3 * units;
        requireShape(kernel, new long[] {kernel.size(0), g}, "kernel", layerName);
        requireShape(recurrent, new long[] {units, g}, "recurrent_kernel", layerName);
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(GRUParamInitializer.INPUT_WEIGHT_KEY, reorder(kernel, units));
        out.put(GRUParamInitializer.RECURRENT_WEIGHT_KEY, reorder(recurrent, units));
        if (!useBias) {
            out.put(GRUParamInitializer.BIAS_KEY, Nd4j.zeros(kernel.dataType(), 1, g));
            if (resetAfter) {
                out.put(GRUParamInitializer.RECURRENT_BIAS_KEY, Nd4j.zeros(kernel.dataType(), 1, g));
            }
            return out;
        }
        INDArray bias = find(byPath, BIAS, layerName);
        if (resetAfter) {
            requireShape(bias, new long[] {2, g}, "bias (reset_after=true)", layerName);
            out.put(GRUParamInitializer.BIAS_KEY, reorder(bias.getRow(0, true), units));
            out.put(GRUParamInitializer.RECURRENT_BIAS_KEY, reorder(bias.getRow(1, true), units));
        } else {
            requireShape(bias, new long[] {g}, "bias (reset_after=false)", layerName);
            out.put(GRUParamInitializer.BIAS_KEY, reorder(bias.reshape(1, g), units));
        }
        return out;
    }

    /** Columns [z | r | h] to [r | z | h]. */
    static INDArray reorder(INDArray keras, long units) {
        INDArray z = keras.get(NDArrayIndex.all(), NDArrayIndex.interval(0, units));
        INDArray r = keras.get(NDArrayIndex.all(), NDArrayIndex.interval(units, 2 * units));
        INDArray h = keras.get(NDArrayIndex.all(), NDArrayIndex.interval(2 * units, 3 * units));
        return Nd4j.hstack(r, z, h);
    }

    private static INDArray find(Map<String, INDArray> byPath, String name, String layerName)
            throws InvalidKerasConfigurationException {
        List<String> hits = byPath.keySet().stream().filter(p -> lastSegment(p).equals(name))
                .collect(Collectors.toList());
        if (hits.size() != 1) {
            throw new InvalidKerasConfigurationException("Keras GRU '" + layerName + "': expected one dataset named '"
                    + name + "' in its weights, found " + hits + " among " + byPath.keySet());
        }
        return byPath.get(hits.get(0));
    }

    /** The dataset name without its group and without tf.keras's ":N" suffix. */
    static String lastSegment(String path) {
        String last = path.substring(path.lastIndexOf('/') + 1);
        return last.replaceFirst(":\\d+$", "");
    }

    private static void requireShape(INDArray a, long[] expected, String what, String layerName)
            throws InvalidKerasConfigurationException {
        if (!java.util.Arrays.equals(a.shape(), expected)) {
            throw new InvalidKerasConfigurationException("Keras GRU '" + layerName + "': " + what + " has shape "
                    + java.util.Arrays.toString(a.shape()) + ", expected " + java.util.Arrays.toString(expected));
        }
    }
}
