package org.dl4jclipping.keras;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.KerasModel;
import org.deeplearning4j.nn.modelimport.keras.KerasSequentialModel;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.keras.layers.KerasBidirectionalGru;
import org.dl4jclipping.keras.layers.KerasGlobalPooling1D;
import org.dl4jclipping.keras.layers.KerasGru;
import org.dl4jclipping.keras.layers.KerasSequenceDense;
import org.dl4jclipping.keras.layers.PathKeyedWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Imports Keras models with GRU layers into DL4J, with the gradient clipping of the optimizer they were trained
 * with: the entry point of this module.
 *
 * <pre>
 *   MultiLayerNetwork net = KerasImport.sequential(Path.of("model.h5"));       // Sequential, full model file
 *   ComputationGraph graph = KerasImport.functional(Path.of("model.h5"));      // Functional ("Model") file
 *   ComputationGraph inference = KerasImport.functional(Path.of("ctc.h5"), "softmax"); // cut at an output
 *   MultiLayerNetwork fromJson = KerasImport.sequential(Path.of("model.json"), Path.of("weights.h5"));
 * </pre>
 *
 * <p>What imports: every layer DL4J 1.0.0-M2.1's Keras importer knows (Dense, TimeDistributed(Dense), Dropout,
 * Activation, pooling, ...) plus Keras's {@code GRU} as this project's {@link org.dl4jclipping.rnn.conf.GRU}
 * (reset_after true and false, activations tanh, sigmoid, relu, hard_sigmoid by the file's Keras version, and
 * linear, return_sequences, go_backwards), {@code Bidirectional(GRU)} with every merge mode but None, and
 * {@code Masking} in front of a GRU. Files from Keras 2.0 to 2.x (standalone and tf.keras) and Keras 3's legacy
 * {@code .h5} format. The network predicts what Keras predicts, on NWC data [batch, time, features] like Keras's,
 * in float32; convert it with {@code convertDataType} for double.
 *
 * <p>What is refused, with the layer, option and value named: stateful or state-returning GRUs, unknown
 * activations, {@code merge_mode=None}, masks with gaps (Keras carries the state across a masked step inside a
 * sequence, DL4J's layers reset it; padding before and after the sequence is exact), layers reading a mask DL4J
 * cannot pass on (anything but a GRU right after {@code Masking}). Lambda layers fail with DL4J's import unless
 * a {@code SameDiffLambdaLayer} is registered for them ({@code KerasLayer.registerLambdaLayer}); when they only
 * compute a training loss, name the output layer instead, as the message says. Training-only options (dropout,
 * recurrent_dropout, regularizers, constraints) import with a warning.
 *
 * <p>Limits: a GRU with a mask, {@code go_backwards} or {@code return_sequences=False} runs inside
 * {@link org.dl4jclipping.keras.layers.KerasRecurrent}, which has no {@code rnnTimeStep} (bare GRUs keep it);
 * {@code Bidirectional} with {@code return_sequences=False} imports for prediction only (DL4J's
 * {@code BidirectionalLayer} cannot backpropagate a last-step output).
 *
 * <p>Training configuration: read by {@link KerasTraining} (not by DL4J, whose import drops {@code clipnorm} and
 * {@code clipvalue} and fails on configurations written by Keras 2.11 and later): the optimizer becomes the
 * network's updater, its clipping a {@code ClippingUpdater} with a {@code ClippingListener}, and one log line
 * says what was imported and why. A file without a training configuration imports with DL4J's default updater
 * (SGD, learning rate 1e-3) and no clipping.
 *
 * <p>Loss: the training configuration's loss becomes a DL4J loss layer after each vector output where DL4J has
 * it (mse, mae, crossentropies, hinge, kld, poisson, ...; identity activation, so predictions are unchanged), so the network can be fitted as it
 * is; otherwise (log_cosh, a Python loss, a sequence output) a warning says what to add before fitting. JSON plus
 * weights carry no training configuration: no loss layer, no updater settings, no clipping.
 */
public final class KerasImport {

    static {
        KerasLayer.registerCustomLayer(KerasGru.CLASS_NAME, KerasGru.class);
        KerasLayer.registerCustomLayer(KerasBidirectionalGru.CLASS_NAME, KerasBidirectionalGru.class);
        KerasLayer.registerCustomLayer(KerasSequenceDense.CLASS_NAME, KerasSequenceDense.class);
        for (String pooling : new String[] {"GlobalAveragePooling1D", "GlobalMaxPooling1D"}) {
            KerasLayer.registerCustomLayer(KerasGlobalPooling1D.PREFIX + pooling, KerasGlobalPooling1D.class);
        }
    }

    /** DL4J's message for a Lambda layer without a registered SameDiff layer (1.0.0-M2.1). */
    private static final Pattern NO_LAMBDA =
            Pattern.compile("No SameDiff Lambda layer found for Lambda layer (\\S+)\\.");

    private KerasImport() {
    }

    /** A Keras Sequential model from a full-model {@code .h5} file ({@code model.save("m.h5")}). */
    public static MultiLayerNetwork sequential(Path h5) {
        try (KerasFile file = KerasFile.open(h5)) {
            ModelConfig config = configOf(file.modelConfigJson(), file, h5);
            MultiLayerNetwork net = buildSequential(config, file, file.trainingConfigJson().orElse(null),
                    h5.toString());
            applyTraining(h5, net);
            return net;
        }
    }

    /**
     * A Keras Sequential model from its architecture JSON ({@code model.to_json()}) and weights
     * ({@code model.save_weights("w.h5")}, or a full-model file). No training configuration travels in these
     * files, so the network has DL4J's default updater and no clipping.
     */
    public static MultiLayerNetwork sequential(Path json, Path weightsH5) {
        try (KerasFile file = KerasFile.open(weightsH5)) {
            ModelConfig config = configOf(readJson(json), file, json);
            return buildSequential(config, file, null, json.toString());
        }
    }

    /** A Keras functional model ({@code Model}, {@code Functional}) from a full-model {@code .h5} file. */
    public static ComputationGraph functional(Path h5) {
        return functional(h5, new String[0]);
    }

    /**
     * The part of a functional model that computes the named output layers, from a full-model {@code .h5}
     * file: for models whose other layers only compute a training loss (Lambda layers, extra label inputs).
     *
     * @param outputLayerNames the layers whose outputs the graph returns, in this order
     */
    public static ComputationGraph functional(Path h5, String... outputLayerNames) {
        try (KerasFile file = KerasFile.open(h5)) {
            ModelConfig config = configOf(file.modelConfigJson(), file, h5);
            ComputationGraph graph = buildFunctional(config, file, Arrays.asList(outputLayerNames),
                    file.trainingConfigJson().orElse(null), h5.toString());
            applyTraining(h5, graph);
            return graph;
        }
    }

    /** A Keras functional model from its architecture JSON and weights file (no training configuration). */
    public static ComputationGraph functional(Path json, Path weightsH5) {
        try (KerasFile file = KerasFile.open(weightsH5)) {
            ModelConfig config = configOf(readJson(json), file, json);
            return buildFunctional(config, file, List.of(), null, json.toString());
        }
    }

    private static MultiLayerNetwork buildSequential(ModelConfig config, KerasFile weights, String trainingJson,
                                                     String source) {
        if (!config.isSequential()) {
            throw new KerasImportException("Keras model in " + source + " is a functional model (class_name "
                    + config.className() + "): import it with KerasImport.functional");
        }
        String json = config.toDl4jJson(List.of(), source);
        try {
            KerasSequentialModel model = new KerasModel().modelBuilder().modelJson(json).enforceTrainingConfig(false)
                    .buildSequential();
            setWeights(model.getLayers(), weights);
            if (trainingJson != null) {
                KerasLosses.add(model, trainingJson, source);
            }
            return model.getMultiLayerNetwork(true);
        } catch (IOException | InvalidKerasConfigurationException | UnsupportedKerasConfigurationException e) {
            throw failure(config, source, e);
        } catch (RuntimeException e) {
            throw unwrapped(config, source, e);
        }
    }

    private static ComputationGraph buildFunctional(ModelConfig config, KerasFile weights, List<String> outputs,
                                                    String trainingJson, String source) {
        if (config.isSequential()) {
            throw new KerasImportException("Keras model in " + source + " is Sequential: import it with"
                    + " KerasImport.sequential");
        }
        String json = config.toDl4jJson(outputs, source);
        try {
            KerasModel model = new KerasModel().modelBuilder().modelJson(json).enforceTrainingConfig(false)
                    .buildModel();
            setWeights(model.getLayers(), weights);
            if (trainingJson != null) {
                KerasLosses.add(model, trainingJson, source);
            }
            return model.getComputationGraph(true);
        } catch (IOException | InvalidKerasConfigurationException | UnsupportedKerasConfigurationException e) {
            throw failure(config, source, e);
        } catch (RuntimeException e) {
            throw unwrapped(config, source, e);
        }
    }

    /** DL4J's import error, with the Lambda layer's message when DL4J found no SameDiff layer for one. */
    private static KerasImportException failure(ModelConfig config, String source, Exception e) {
        String m = String.valueOf(e.getMessage());
        Matcher lambda = NO_LAMBDA.matcher(m);
        if (lambda.find()) {
            return new KerasImportException(config.lambdaMessage(lambda.group(1), source), e);
        }
        return new KerasImportException("Cannot import the Keras model in " + source + ": " + m, e);
    }

    /**
     * DL4J wraps whatever a custom layer's constructor throws in a RuntimeException saying the class "needs to
     * have a constructor with only Map&lt;String,Object&gt; as the argument": the refusal of our mapping (layer,
     * option, value) is its cause, and is what the user sees.
     */
    private static RuntimeException unwrapped(ModelConfig config, String source, RuntimeException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof InvalidKerasConfigurationException
                    || c instanceof UnsupportedKerasConfigurationException) {
                return failure(config, source, (Exception) c);
            }
            if (c instanceof KerasImportException) {
                return (KerasImportException) c;
            }
        }
        return e;
    }

    /**
     * Gives every layer with parameters the datasets of its HDF5 group: by path for this project's mappings
     * ({@link PathKeyedWeights}), by DL4J's short parameter name (the last path segment without ":0") for
     * DL4J's own layers.
     */
    private static void setWeights(Map<String, KerasLayer> layers, KerasFile file)
            throws InvalidKerasConfigurationException {
        for (KerasLayer layer : layers.values()) {
            if (layer.getNumParams() == 0) {
                continue;
            }
            Map<String, INDArray> byPath = file.layerWeights(layer.getLayerName());
            if (layer instanceof PathKeyedWeights) {
                layer.setWeights(byPath);
                continue;
            }
            Map<String, INDArray> byName = new LinkedHashMap<>();
            for (Map.Entry<String, INDArray> e : byPath.entrySet()) {
                String path = e.getKey();
                String name = path.substring(path.lastIndexOf('/') + 1).replaceFirst(":\\d+$", "");
                if (byName.put(name, e.getValue()) != null) {
                    throw new KerasImportException("Keras layer '" + layer.getLayerName() + "' in " + file.path()
                            + " has two datasets named '" + name + "' (" + byPath.keySet() + ")");
                }
            }
            layer.setWeights(byName);
        }
    }

    private static void applyTraining(Path h5, MultiLayerNetwork net) {
        KerasTraining.read(h5).ifPresent(t -> t.applyTo(net));
    }

    private static void applyTraining(Path h5, ComputationGraph graph) {
        KerasTraining.read(h5).ifPresent(t -> t.applyTo(graph));
    }

    /** The architecture with the version and backend attributes of the file holding the weights. */
    private static ModelConfig configOf(String json, KerasFile file, Path source) {
        return ModelConfig.parse(json, file.kerasVersion().orElse(null), file.backend().orElse(null),
                source.toString());
    }

    private static String readJson(Path json) {
        try {
            return Files.readString(json, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KerasImportException("Cannot read the Keras architecture JSON " + json + ": " + e.getMessage(),
                    e);
        }
    }
}
