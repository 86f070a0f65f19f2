package org.dl4jclipping.rnn.models;

import java.util.function.Consumer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The settings shared by the sequence-model builders, and the two ways to finish one: {@link #build()} (the
 * configuration) and {@link #network(Consumer[])} (an initialised network with the {@link ClippingListener}
 * already added, so that clipping cannot be forgotten).
 *
 * <p>Immutable: every setter returns a new builder and leaves this one unchanged, so a builder can be kept as a
 * template. Values are checked by {@code build()} / {@code network()}, not by the setters; a bad value throws
 * {@link IllegalArgumentException} with the builder's name, the field, the value and the allowed range, for
 * example {@code "CharLanguageModel: width = 0 is out of range: must be >= 1"}.
 *
 * <p>Shared settings and their defaults (a builder may change a default, see its own Javadoc):
 * <table>
 *   <caption>Shared settings</caption>
 *   <tr><th>setter</th><th>default</th><th>allowed</th></tr>
 *   <tr><td>{@link #cell(Cell)}</td><td>{@link Cell#LSTM}</td><td>LSTM (native), DL4J_LSTM, GRU</td></tr>
 *   <tr><td>{@link #width(int)}</td><td>128</td><td>&gt;= 1 (hidden units per recurrent layer)</td></tr>
 *   <tr><td>{@link #depth(int)}</td><td>1</td><td>&gt;= 1 (stacked recurrent layers)</td></tr>
 *   <tr><td>{@link #clip(ClipStrategy)}</td><td>{@code Clip.globalNorm(1.0)}</td><td>any strategy, not null</td></tr>
 *   <tr><td>{@link #updater(IUpdater)}</td><td>{@code new Adam(1e-3)}</td><td>any DL4J updater except a
 *       {@code ClippingUpdater} (the builder wraps it)</td></tr>
 *   <tr><td>{@link #seed(long)}</td><td>42</td><td>any</td></tr>
 *   <tr><td>{@link #dropout(double)}</td><td>0 (off)</td><td>[0, 1)</td></tr>
 *   <tr><td>{@link #dataType(DataType)}</td><td>{@code FLOAT}</td><td>FLOAT, DOUBLE, HALF</td></tr>
 * </table>
 * Weights are initialised with Xavier (DL4J's {@code WeightInit.XAVIER}), biases with 0 (LSTM forget gate: 1).
 *
 * @param <B> the concrete builder
 */
public abstract class SequenceModelBuilder<B extends SequenceModelBuilder<B>> implements Cloneable {

    Cell cell = Cell.LSTM;
    int width = 128;
    int depth = 1;
    ClipStrategy clip = Clip.globalNorm(1.0);
    IUpdater updater = new Adam(1e-3);
    long seed = 42;
    double dropout = 0.0;
    DataType dataType = DataType.FLOAT;

    SequenceModelBuilder() {
    }

    /** The builder's name in messages, e.g. "CharLanguageModel". */
    abstract String name();

    /** Adds the layers and settings of the concrete model to {@code list}, after validation. */
    abstract MultiLayerConfiguration configure(NeuralNetConfiguration.ListBuilder list);

    /** Checks the concrete model's own settings. */
    abstract void validateOwn();

    /** A copy of this builder with {@code change} applied to the copy. */
    @SuppressWarnings("unchecked")
    final B with(Consumer<B> change) {
        try {
            B copy = (B) clone();
            change.accept(copy);
            return copy;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }

    /** The recurrent cell (default {@link Cell#LSTM}). */
    public B cell(Cell cell) {
        return with(b -> b.cell = cell);
    }

    /** Hidden units of each recurrent layer (default 128; {@link CharLanguageModel}: 256), &gt;= 1. */
    public B width(int width) {
        return with(b -> b.width = width);
    }

    /** Number of stacked recurrent layers (default 1; {@link CharLanguageModel}: 2), &gt;= 1. */
    public B depth(int depth) {
        return with(b -> b.depth = depth);
    }

    /**
     * The clipping strategy, applied to the mean gradient of every parameter update before the updater
     * (default {@code Clip.globalNorm(1.0)}, the global L2 norm clipping of PyTorch's {@code clip_grad_norm_}
     * with max norm 1.0, as Hugging Face's Trainer and most LSTM language-model recipes use).
     */
    public B clip(ClipStrategy clip) {
        return with(b -> b.clip = clip);
    }

    /**
     * The optimiser, without clipping: the builder wraps it in a {@link ClippingUpdater} with {@link #clip}
     * (default {@code new Adam(1e-3)}; {@link CharLanguageModel}: {@code new Adam(2e-3)}). The builder stores and
     * uses a clone, so later changes to the object passed here do not reach built configurations.
     */
    public B updater(IUpdater updater) {
        return with(b -> b.updater = updater == null ? null : updater.clone());
    }

    /** The random seed of the weight initialisation and dropout (default 42). */
    public B seed(long seed) {
        return with(b -> b.seed = seed);
    }

    /**
     * The dropout <em>rate</em>, the probability of dropping a unit (PyTorch's and Keras's convention, not DL4J's
     * retain probability), in [0, 1); default 0 (no dropout). It is applied to the input of every layer except
     * the first: between stacked recurrent layers and before the output layer (like PyTorch's
     * {@code nn.LSTM(dropout=...)} followed by a dropout before the decoder). Only during training.
     */
    public B dropout(double rate) {
        return with(b -> b.dropout = rate);
    }

    /** The network's floating-point type (default {@code FLOAT}): FLOAT, DOUBLE or HALF. */
    public B dataType(DataType dataType) {
        return with(b -> b.dataType = dataType);
    }

    /** @return the recurrent cell */
    public Cell getCell() {
        return cell;
    }

    /** @return hidden units per recurrent layer */
    public int getWidth() {
        return width;
    }

    /** @return stacked recurrent layers */
    public int getDepth() {
        return depth;
    }

    /** @return the clipping strategy */
    public ClipStrategy getClip() {
        return clip;
    }

    /** @return a copy of the optimiser (without the clipping wrapper) */
    public IUpdater getUpdater() {
        return updater == null ? null : updater.clone();
    }

    /** @return the seed */
    public long getSeed() {
        return seed;
    }

    /** @return the dropout rate (probability of dropping) */
    public double getDropout() {
        return dropout;
    }

    /** @return the network data type */
    public DataType getDataType() {
        return dataType;
    }

    /**
     * Validates the settings and builds the configuration: updater {@code ClippingUpdater(updater, clip)} for
     * all layers.
     *
     * @throws IllegalArgumentException naming field, value and allowed range, for an invalid setting
     */
    public MultiLayerConfiguration build() {
        validate();
        return build(new ClippingUpdater(updater.clone(), clip));
    }

    /** The configuration with {@code layerUpdater} on every layer; the settings are validated already. */
    private MultiLayerConfiguration build(IUpdater layerUpdater) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dataType)
                .weightInit(WeightInit.XAVIER)
                .updater(layerUpdater)
                .list();
        return configure(list);
    }

    /**
     * The network for private training ({@code org.dl4jclipping.privacy.PrivateTraining}, DP-SGD): the layers,
     * seed and initial parameters of {@link #network}, with the plain {@link #updater} and no listener: DP-SGD clips
     * each example's gradient itself, so the batch clipping of {@link #clip} does not apply (and the
     * {@code ClippingUpdater} it needs would refuse to run without its listener).
     */
    public MultiLayerNetwork privateNetwork() {
        validate();
        MultiLayerNetwork net = new MultiLayerNetwork(build(updater.clone()));
        net.init();
        return net;
    }

    /**
     * {@link #build()}, then an initialised {@link MultiLayerNetwork} with a {@link ClippingListener} added that
     * passes every step's report to {@code consumers} (for example a {@link org.dl4jclipping.dl4j.ClipHistory}).
     * Listeners are not part of a configuration: after {@code ModelSerializer} restore or {@code clone()}, add
     * {@code new ClippingListener()} again.
     */
    @SafeVarargs
    public final MultiLayerNetwork network(Consumer<ClipReport>... consumers) {
        MultiLayerNetwork net = new MultiLayerNetwork(build());
        net.init();
        net.addListeners(new ClippingListener(consumers));
        return net;
    }

    private void validate() {
        notNull("cell", cell);
        atLeast("width", width, 1);
        atLeast("depth", depth, 1);
        notNull("clip", clip);
        notNull("updater", updater);
        if (updater instanceof ClippingUpdater) {
            throw outOfRange("updater", updater, "must not be a ClippingUpdater: pass the inner updater and set "
                    + "the strategy with clip(...)");
        }
        if (!(dropout >= 0.0 && dropout < 1.0)) {
            throw outOfRange("dropout", dropout, "must be in [0, 1) (the probability of dropping a unit)");
        }
        notNull("dataType", dataType);
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE && dataType != DataType.HALF) {
            throw outOfRange("dataType", dataType, "must be FLOAT, DOUBLE or HALF");
        }
        validateOwn();
    }

    // ---- helpers for the concrete builders

    /** A recurrent layer of the configured cell, with dropout on its input unless it is the network's first. */
    final BaseRecurrentLayer recurrent(long nIn, boolean first) {
        BaseRecurrentLayer layer = cell.layer(nIn, width);
        return withDropout(layer, first);
    }

    /**
     * Adds {@code depth} recurrent layers, the first reading {@code nIn} inputs; the last one wrapped in
     * {@code LastTimeStep} when {@code lastTimeStep}. {@code first}: whether the stack is the network's first layer
     * (no dropout on the raw input).
     */
    final void addRecurrentStack(NeuralNetConfiguration.ListBuilder list, long nIn, boolean first,
                                 boolean lastTimeStep) {
        long in = nIn;
        for (int d = 0; d < depth; d++) {
            BaseRecurrentLayer layer = recurrent(in, first && d == 0);
            list.layer(lastTimeStep && d == depth - 1 ? new LastTimeStep(layer) : layer);
            in = width;
        }
    }

    /** A required count: 0 means "not set"; otherwise it must be at least {@code min}. */
    final void required(String field, long value, long min) {
        if (value == 0) {
            throw outOfRange(field, 0, "must be set, >= " + min);
        }
        atLeast(field, value, min);
    }

    /** Sets the configured dropout on {@code layer}'s input, unless {@code first} or the rate is 0. */
    final <L extends Layer> L withDropout(L layer, boolean first) {
        if (!first && dropout > 0.0) {
            layer.setIDropout(new Dropout(1.0 - dropout)); // DL4J takes the retain probability
        }
        return layer;
    }

    final void atLeast(String field, long value, long min) {
        if (value < min) {
            throw outOfRange(field, value, "must be >= " + min);
        }
    }

    final void notNull(String field, Object value) {
        if (value == null) {
            throw new IllegalArgumentException(name() + ": " + field + " is null: must be set");
        }
    }

    final IllegalArgumentException outOfRange(String field, Object value, String rule) {
        return new IllegalArgumentException(name() + ": " + field + " = " + value + " is out of range: " + rule);
    }
}
