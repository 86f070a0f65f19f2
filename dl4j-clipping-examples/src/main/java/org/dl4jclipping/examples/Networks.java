package org.dl4jclipping.examples;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.rnn.models.Cell;
import org.dl4jclipping.rnn.models.CharLanguageModel;
import org.dl4jclipping.rnn.models.SequenceClassifier;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The examples' three sequence networks. The char-LM and the classifier come from the
 * {@code org.dl4jclipping.rnn.models} builders ({@link CharLanguageModel}, {@link SequenceClassifier}); the
 * forecaster is the example's own (see {@link #timeSeriesForecaster}).
 *
 * <p>Every network has exactly one {@link ClippingListener} (the builders add it; a second one would fail the step),
 * feeding the {@link StepLog} and its {@code ClipHistory}. {@code --clip none} is a global-norm threshold no
 * gradient reaches ({@link #strategy}), so that the norms are still recorded (metrics.csv, {@code --advise}) while
 * nothing is clipped.
 */
public final class Networks {

    /** What every network shares: cell, optimiser (without clipping), clipping, seed. */
    public record Setup(Cell cell, IUpdater optimiser, ClipSpec clip, long seed) {
    }

    /** The strategy for {@code --clip none}: never binds, but lets the ClippingListener measure every step. */
    static final ClipStrategy NO_CLIPPING = Clip.globalNorm(Double.MAX_VALUE);

    private Networks() {
    }

    /** The strategy a network gets for {@code clip}: {@link #NO_CLIPPING} for {@code none}. */
    static ClipStrategy strategy(ClipSpec clip) {
        return clip.isNone() ? NO_CLIPPING : clip.strategy();
    }

    /**
     * Character language model ({@link CharLanguageModel}): {@code layers} recurrent layers of {@code hidden} units,
     * softmax over the vocabulary. Full backpropagation through time ({@code tbpttLength(0)}): the training
     * sequences are already cut to {@code --seq-length}, so each minibatch is one update, as before the builder.
     */
    public static MultiLayerNetwork charLanguageModel(Setup setup, int vocab, int hidden, int layers, double dropout,
                                                      StepLog log) {
        return CharLanguageModel.builder()
                .vocabularySize(vocab)
                .cell(setup.cell())
                .width(hidden)
                .depth(layers)
                .dropout(dropout)
                .tbpttLength(0)
                .clip(strategy(setup.clip()))
                .updater(setup.optimiser())
                .seed(setup.seed())
                .network(log.history(), log);   // ClippingListener added by the builder
    }

    /** Sequence classifier ({@link SequenceClassifier}, pooling LAST): the last time step, softmax over the classes. */
    public static MultiLayerNetwork sequenceClassifier(Setup setup, int features, int hidden, int classes,
                                                       StepLog log) {
        return SequenceClassifier.builder()
                .features(features)
                .classes(classes)
                .cell(setup.cell())
                .width(hidden)
                .clip(strategy(setup.clip()))
                .updater(setup.optimiser())
                .seed(setup.seed())
                .network(log.history(), log);   // ClippingListener added by the builder
    }

    /**
     * One-step-ahead forecaster: a recurrent layer and a linear output at every time step (MSE), {@code features}
     * inputs to one predicted value per step.
     *
     * <p>Not {@code TimeSeriesForecaster}: that builder forecasts all of its {@code features} (input size = forecast
     * size) from the last time step only. This example reads 3 inputs (level, change, seasonal change) and predicts
     * 1 value (the next change) at every step of the window, which gives {@code window} targets per sequence;
     * the builder would need the two extra inputs predicted as well and would train on one target per window.
     */
    public static MultiLayerNetwork timeSeriesForecaster(Setup setup, int features, int hidden, StepLog log) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(setup.seed())
                .weightInit(WeightInit.XAVIER)
                .updater(new ClippingUpdater(setup.optimiser(), strategy(setup.clip())))
                .list()
                .layer(setup.cell().layer(features, hidden))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(hidden).nOut(1)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.addListeners(new ClippingListener(log.history(), log));   // required by the library
        return net;
    }
}
