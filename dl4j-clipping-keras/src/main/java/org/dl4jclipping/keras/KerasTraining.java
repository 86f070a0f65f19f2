package org.dl4jclipping.keras;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.keras.training.ClipMapping;
import org.dl4jclipping.keras.training.KerasTrainingException;
import org.dl4jclipping.keras.training.KerasVersion;
import org.dl4jclipping.keras.training.NetworkUpdaters;
import org.dl4jclipping.keras.training.OptimizerConfig;
import org.dl4jclipping.keras.training.OptimizerFamily;
import org.dl4jclipping.keras.training.UpdaterMapping;
import org.nd4j.linalg.learning.config.IUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optimizer and gradient clipping a Keras model was compiled with, read from the file's
 * {@code training_config}, as a DL4J updater and a clipping strategy; and the two installed on a network.
 *
 * <pre>{@code
 * KerasTraining t = KerasTraining.read(Path.of("model.h5")).orElseThrow();
 * t.updater();      // e.g. Nesterovs(lr 0.02 / (1 + 1e-6 * iteration), momentum 0.9)
 * t.clipping();     // e.g. Clip.globalNorm(5.0)
 * t.applyTo(net);   // every trained layer: new ClippingUpdater(updater, clipping); a ClippingListener added
 * }</pre>
 *
 * <p>{@code KerasImport} calls {@link #applyTo(MultiLayerNetwork)} itself; use this class directly to read just
 * the optimizer and clipping of a file for a network you build yourself.
 *
 * <p>What each field becomes (details and the source lines they were checked against: {@link ClipMapping},
 * {@link UpdaterMapping}, {@link org.dl4jclipping.keras.training.LearningRates},
 * {@link OptimizerFamily}): {@code clipvalue} -> {@code Clip.value}; {@code clipnorm} ->
 * {@code Clip.globalNorm} for files of standalone Keras up to 2.3 (one norm over all gradients there) and
 * {@code Clip.parameterNorm} for tf.keras and Keras 3 (one norm per variable); {@code global_clipnorm} ->
 * {@code Clip.globalNorm}; several in the order the saving Keras applies them; null means unset. Optimizers:
 * SGD (plain, Nesterov, or classical momentum through {@link org.dl4jclipping.keras.training.KerasMomentum}),
 * Adam (and AMSGrad), RMSprop, Adagrad, Adadelta (learning rate 1), Adamax; legacy
 * {@code decay} becomes an iteration schedule {@code lr / (1 + decay * iteration)}; what DL4J cannot express
 * fails with a {@link KerasTrainingException} naming the field. Config formats: standalone Keras ({@code lr},
 * {@code decay}, clip fields only when set), tf.keras ({@code learning_rate}, {@code name},
 * {@code global_clipnorm}), Keras 2.11+ and 3 (no {@code decay}, every clip field null when unset,
 * {@code Custom>Adam}, {@code is_legacy_optimizer}, {@code use_ema} ...).
 *
 * <p>Fields that change only how Keras trained in ways DL4J cannot copy are refused rather than dropped:
 * {@code use_ema: true}, {@code weight_decay}, {@code gradient_accumulation_steps}. Immutable.
 */
public final class KerasTraining {

    private static final Logger LOG = LoggerFactory.getLogger(KerasTraining.class);

    private final String optimizer;
    private final IUpdater updater;
    private final Double initialState;
    private final ClipStrategy clipping;
    private final boolean perVariableNorm;
    private final String clipDescription;
    private final String optimizerDescription;
    private final boolean differs;

    private KerasTraining(String optimizer, IUpdater updater, Double initialState, ClipStrategy clipping,
                          boolean perVariableNorm, String clipDescription, String optimizerDescription,
                          boolean differs) {
        this.optimizer = optimizer;
        this.updater = updater;
        this.initialState = initialState;
        this.clipping = clipping;
        this.perVariableNorm = perVariableNorm;
        this.clipDescription = clipDescription;
        this.optimizerDescription = optimizerDescription;
        this.differs = differs;
    }

    /**
     * Reads the training configuration of a Keras {@code .h5} file (a full model saved with {@code model.save}
     * after {@code compile}).
     *
     * @param h5 the file
     * @return empty when the file has no {@code training_config} (saved before {@code compile}, or with
     *         {@code include_optimizer=False})
     * @throws IllegalArgumentException if the file does not exist or is not readable HDF5
     * @throws KerasTrainingException   if its optimizer cannot be imported (the message names the field)
     */
    public static Optional<KerasTraining> read(Path h5) {
        if (h5 == null || !Files.isRegularFile(h5)) {
            throw new IllegalArgumentException("Keras file " + h5 + " does not exist or is not a file");
        }
        String json;
        String version;
        try (Hdf5Archive archive = new Hdf5Archive(h5.toString())) {
            if (!archive.hasAttribute("training_config")) {
                return Optional.empty();
            }
            json = archive.readAttributeAsJson("training_config");
            version = archive.hasAttribute("keras_version") ? archive.readAttributeAsString("keras_version") : null;
        } catch (UnsupportedKerasConfigurationException | RuntimeException e) {
            if (e instanceof KerasTrainingException k) {
                throw k;
            }
            throw new IllegalArgumentException("cannot read the training_config of Keras file " + h5 + ": "
                    + e.getMessage(), e);
        }
        try {
            return Optional.of(parse(json, version));
        } catch (KerasTrainingException e) {
            throw new KerasTrainingException(h5.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Maps a {@code training_config} JSON document saved by Keras {@code kerasVersion}.
     *
     * @param trainingConfigJson the file's {@code training_config} attribute
     * @param kerasVersion       the file's {@code keras_version} attribute, e.g. {@code "2.0.9"}, {@code "3.8.0"}
     * @throws KerasTrainingException naming the field when something cannot be imported
     */
    public static KerasTraining parse(String trainingConfigJson, String kerasVersion) {
        OptimizerConfig config = OptimizerConfig.fromTrainingConfig(trainingConfigJson);
        KerasVersion version = KerasVersion.parse(kerasVersion);
        OptimizerFamily family = OptimizerFamily.of(version, config);
        refuseUnsupported(config);
        UpdaterMapping u = UpdaterMapping.of(config, family);
        ClipMapping c = ClipMapping.of(config, family, version);
        StringBuilder d = new StringBuilder("optimizer ").append(u.description());
        for (String note : u.differences()) {
            d.append("; ").append(note);
        }
        boolean differs = u.differences().stream().anyMatch(n -> !n.startsWith("epsilon is null"));
        return new KerasTraining(config.writtenClassName(), u.updater(), u.initialState(), c.strategy().orElse(null),
                c.perVariableNorm(), c.description(), d.toString(), differs);
    }

    private static void refuseUnsupported(OptimizerConfig config) {
        if (config.bool("use_ema", false)) {
            throw new KerasTrainingException(config.where("use_ema") + " = true cannot be imported: DL4J keeps no "
                    + "exponential moving average of the weights (only use_ema = false maps)");
        }
        double wd = config.number("weight_decay", 0.0);
        if (wd != 0) {
            throw new KerasTrainingException(config.where("weight_decay") + " = " + wd + " cannot be imported: "
                    + "Keras's decoupled weight decay (w -= lr * weight_decay * w before the update) is not mapped; "
                    + "only null or 0 maps");
        }
        double acc = config.number("gradient_accumulation_steps", 1.0);
        if (acc != 1) {
            throw new KerasTrainingException(config.where("gradient_accumulation_steps") + " = " + acc + " cannot "
                    + "be imported: DL4J updates every minibatch (only null or 1 maps)");
        }
    }

    /**
     * The same clipping with another optimizer: fine-tuning often wants a new learning rate or updater, while the
     * clipping threshold stays what the model was trained with. {@link #applyTo} then installs
     * {@code new ClippingUpdater(updater, clipping)} with DL4J's own initial state for {@code updater}, and the
     * description says the optimizer was replaced.
     *
     * @param replacement the DL4J updater to use instead of the file's, not a {@code ClippingUpdater}
     */
    public KerasTraining withUpdater(IUpdater replacement) {
        if (replacement == null || replacement instanceof ClippingUpdater) {
            throw new IllegalArgumentException("replacement = " + replacement + ": must be a plain DL4J updater (the "
                    + "clipping is added from the file)");
        }
        return new KerasTraining(optimizer, replacement.clone(), null, clipping, perVariableNorm, clipDescription,
                "optimizer " + replacement + " set by the user (the file's was " + optimizerDescription
                        .substring("optimizer ".length()) + ")", false);
    }

    /** The optimizer's class name as the file wrote it, e.g. {@code "SGD"}, {@code "Custom>Adam"}. */
    public String optimizerName() {
        return optimizer;
    }

    /** The optimizer as a DL4J updater, without clipping (a fresh copy each call). */
    public IUpdater updater() {
        return updater.clone();
    }

    /** The clipping strategy (a chain when several fields apply); empty when the optimizer does not clip. */
    public Optional<ClipStrategy> clipping() {
        return Optional.ofNullable(clipping);
    }

    /**
     * The updater every trained layer gets: {@code new ClippingUpdater(updater(), clipping)}, or the plain
     * {@link #updater()} when nothing clips.
     */
    public IUpdater clippedUpdater() {
        return clipping == null ? updater() : new ClippingUpdater(updater(), clipping);
    }

    /**
     * The value every element of the updater state must start at to match Keras (RMSprop: 0, Adagrad:
     * {@code initial_accumulator_value}), or empty when DL4J's own start matches. {@link #applyTo} sets it; set
     * it yourself (on {@code net.getUpdater().getStateViewArray()}) on a network you configure by hand.
     */
    public Optional<Double> initialUpdaterState() {
        return Optional.ofNullable(initialState);
    }

    /**
     * The one line that says what was imported and why, e.g. {@code "clipnorm=5.0 from Keras 2.0.9 (standalone
     * Keras optimizer): global L2 norm -> Clip.globalNorm(5.0); ...; optimizer SGD(lr=0.02 with decay=1.0E-6 ->
     * ..., momentum=0.9, nesterov) -> Nesterovs"}.
     */
    public String description() {
        return clipDescription + "; " + optimizerDescription;
    }

    /**
     * Installs the optimizer and clipping on every trained layer of {@code net} (see {@link NetworkUpdaters}),
     * with a fresh updater state, replaces any {@link ClippingListener} by a new one when the optimizer clips, and
     * logs {@link #description()} once (at WARN when DL4J's update differs from Keras's).
     *
     * @throws IllegalStateException if {@code net} is not initialised
     */
    public void applyTo(MultiLayerNetwork net) {
        applyTo(net, new ClippingListener());
    }

    /** As {@link #applyTo(MultiLayerNetwork)}, with your own listener (for a {@code ClipHistory}, say). */
    public void applyTo(MultiLayerNetwork net, ClippingListener listener) {
        List<String> layers = NetworkUpdaters.install(net, clippedUpdater(), initialState);
        if (clipping != null) {
            net.setListeners(listeners(net.getListeners(), listener));
        }
        log(layers, net.paramTable().keySet());
    }

    /** As {@link #applyTo(MultiLayerNetwork)}, for a {@link ComputationGraph}. */
    public void applyTo(ComputationGraph graph) {
        applyTo(graph, new ClippingListener());
    }

    /** As {@link #applyTo(ComputationGraph)}, with your own listener (for a {@code ClipHistory}, say). */
    public void applyTo(ComputationGraph graph, ClippingListener listener) {
        List<String> layers = NetworkUpdaters.install(graph, clippedUpdater(), initialState);
        if (clipping != null) {
            graph.setListeners(listeners(graph.getListeners(), listener));
        }
        log(layers, graph.paramTable().keySet());
    }

    private static List<TrainingListener> listeners(Collection<TrainingListener> existing, ClippingListener added) {
        List<TrainingListener> out = new ArrayList<>();
        if (existing != null) {
            existing.stream().filter(l -> !(l instanceof ClippingListener)).forEach(out::add);
        }
        out.add(added);
        return out;
    }

    /**
     * Logs the description once; with a per-variable clipnorm and a GRU with reset_after=True (its parameter
     * {@code rb}; {@code frb}/{@code brb} inside Bidirectional), adds that Keras's one bias variable [2, 3u] is
     * DL4J's two parameters b and rb, clipped separately.
     */
    private void log(List<String> layers, Collection<String> paramKeys) {
        boolean splitBias = perVariableNorm && paramKeys.stream().anyMatch(k -> k.endsWith("rb"));
        String line = "Keras training configuration: " + description() + " (installed on " + layers.size()
                + " layers)" + (splitBias ? "; note: Keras keeps a reset_after=True GRU's two bias rows in one "
                + "variable [2, 3u], DL4J in two parameters b and rb, so Clip.parameterNorm clips them separately "
                + "where Keras's clipnorm clips them together" : "");
        if (differs) {
            LOG.warn(line);
        } else {
            LOG.info(line);
        }
    }

    @Override
    public String toString() {
        return "KerasTraining[" + description() + "]";
    }
}
