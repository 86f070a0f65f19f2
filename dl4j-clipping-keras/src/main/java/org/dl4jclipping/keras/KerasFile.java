package org.dl4jclipping.keras;

import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One Keras HDF5 file, read through DL4J's {@link Hdf5Archive}: a full model saved by {@code model.save(...)}
 * (attributes {@code model_config}, {@code keras_version}, {@code backend}, optionally {@code training_config},
 * weights under the group {@code model_weights}), or the weights alone saved by {@code model.save_weights(...)}
 * (layer groups at the root).
 *
 * <p>Weights are found by walking each layer's group, not through its {@code weight_names} attribute: every
 * dataset below the group {@code <root>/<layer name>} belongs to that layer, keyed by its path relative to that
 * group (for example {@code gru/gru_cell/kernel:0} in tf.keras 2, {@code sequential_4/gru_4/gru_cell/kernel} in
 * Keras 3, {@code rnn/kernel:0} in Keras 2.0). Values are read as float32 (Keras saves float32 weights).
 */
final class KerasFile implements AutoCloseable {

    /** Group holding the weights in a full-model file. */
    static final String MODEL_WEIGHTS = "model_weights";

    private final Path path;
    private final Hdf5Archive archive;
    private final String weightsRoot;

    private KerasFile(Path path) {
        this.path = path;
        this.archive = new Hdf5Archive(path.toString());
        this.weightsRoot = archive.getGroups().contains(MODEL_WEIGHTS) ? MODEL_WEIGHTS : null;
    }

    /** The HDF5 format signature, at the start of the file or of its superblock. */
    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    /** Opens a file; fails naming the path when it does not exist or is not HDF5 (a Keras 3 ".keras" zip). */
    static KerasFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new KerasImportException("Keras file " + path + " does not exist or is not a file");
        }
        if (!isHdf5(path)) {
            throw new KerasImportException("Keras file " + path + " is not an HDF5 file: import a model saved with"
                    + " model.save(\"model.h5\") or model.save_weights(\"weights.h5\") (Keras 3's .keras zip is"
                    + " not supported: load it in Keras and save it as .h5)");
        }
        return new KerasFile(path);
    }

    /** HDF5 puts its signature at byte 0, 512, 1024, 2048, ... (after an optional user block). */
    private static boolean isHdf5(Path path) {
        try (java.io.InputStream in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(4096 + HDF5_SIGNATURE.length);
            for (int offset = 0; offset + HDF5_SIGNATURE.length <= head.length; offset = offset == 0 ? 512
                    : 2 * offset) {
                if (java.util.Arrays.equals(head, offset, offset + HDF5_SIGNATURE.length, HDF5_SIGNATURE, 0,
                        HDF5_SIGNATURE.length)) {
                    return true;
                }
            }
            return false;
        } catch (java.io.IOException e) {
            throw new KerasImportException("Cannot read Keras file " + path + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    /** The architecture JSON ({@code model_config}); fails naming the file when absent (a weights-only file). */
    String modelConfigJson() {
        return jsonAttribute("model_config").orElseThrow(() -> new KerasImportException("Keras file " + path
                + " has no model_config attribute: it holds weights only (model.save_weights); import it with"
                + " the architecture JSON, KerasImport.sequential(json, weights) or functional(json, weights)"));
    }

    /** The training configuration JSON ({@code training_config}), absent when the model was saved uncompiled. */
    Optional<String> trainingConfigJson() {
        return jsonAttribute("training_config");
    }

    /** The {@code keras_version} attribute of the file, or of its weights group. */
    Optional<String> kerasVersion() {
        Optional<String> v = attribute("keras_version");
        if (v.isEmpty() && weightsRoot != null && archive.hasAttribute("keras_version", weightsRoot)) {
            v = Optional.of(readString("keras_version", weightsRoot));
        }
        return v;
    }

    /** The {@code backend} attribute ("tensorflow", "theano", "jax", ...), if present. */
    Optional<String> backend() {
        return attribute("backend");
    }

    /** Whether the weights hold a group for this layer. */
    boolean hasLayerGroup(String layerName) {
        return layerGroups().contains(layerName);
    }

    /** The names of the layer groups holding weights. */
    List<String> layerGroups() {
        return weightsRoot == null ? archive.getGroups() : archive.getGroups(weightsRoot);
    }

    /**
     * Every dataset below the layer's group, keyed by its path relative to that group, in HDF5's (alphabetical)
     * order. Empty when the group has none (layers without weights); fails when the group is missing.
     */
    Map<String, INDArray> layerWeights(String layerName) {
        if (!hasLayerGroup(layerName)) {
            throw new KerasImportException("Keras file " + path + " has no weights group for layer '" + layerName
                    + "' (groups: " + layerGroups() + ")");
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        collect(groupPath(layerName), "", out);
        return out;
    }

    private void collect(String group, String relative, Map<String, INDArray> out) {
        for (String dataset : archive.getDataSets(group)) {
            try {
                out.put(relative + dataset, archive.readDataSet(dataset, group));
            } catch (UnsupportedKerasConfigurationException e) {
                throw new KerasImportException("Keras file " + path + ": cannot read dataset " + group + "/"
                        + dataset + ": " + e.getMessage(), e);
            }
        }
        for (String child : archive.getGroups(group)) {
            collect(group + "/" + child, relative + child + "/", out);
        }
    }

    private String groupPath(String layerName) {
        return weightsRoot == null ? layerName : weightsRoot + "/" + layerName;
    }

    private Optional<String> attribute(String name) {
        if (!archive.hasAttribute(name)) {
            return Optional.empty();
        }
        return Optional.of(readString(name));
    }

    private Optional<String> jsonAttribute(String name) {
        if (!archive.hasAttribute(name)) {
            return Optional.empty();
        }
        try {
            return Optional.of(archive.readAttributeAsJson(name).replace("\u0000", "").trim());
        } catch (UnsupportedKerasConfigurationException e) {
            throw new KerasImportException("Keras file " + path + ": cannot read attribute '" + name + "': "
                    + e.getMessage(), e);
        }
    }

    private String readString(String name, String... groups) {
        try {
            return archive.readAttributeAsString(name, groups).trim();
        } catch (UnsupportedKerasConfigurationException e) {
            throw new KerasImportException("Keras file " + path + ": cannot read attribute '" + name + "': "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        archive.close();
    }
}
