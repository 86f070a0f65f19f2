package org.dl4jclipping.examples;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.rnn.conf.GRU;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The examples' three sequence networks, built directly from DL4J's {@code LSTM} or our {@code GRU}; the one
 * place to swap for the {@code org.dl4jclipping.rnn.models} builders once they exist.
 *
 * <p>Every network whose {@code --clip} is not {@code none} gets a {@link ClippingUpdater} in its configuration
 * and, as the library requires, a {@link ClippingListener} feeding the {@link StepLog}'s history.
 */
public final class Networks {

    /** Recurrent cell. */
    public enum Cell {
        LSTM, GRU
    }

    /** What every network shares: cell, optimiser, clipping, seed. */
    public record Setup(Cell cell, IUpdater optimiser, ClipSpec clip, long seed) {
    }

    private Networks() {
    }

    /** Character language model: {@code layers} recurrent layers of {@code hidden} units, softmax over the vocabulary. */
    public static MultiLayerNetwork charLanguageModel(Setup setup, int vocab, int hidden, int layers, StepLog log) {
        NeuralNetConfiguration.ListBuilder b = base(setup).list();
        for (int i = 0; i < layers; i++) {
            b.layer(recurrent(setup.cell(), i == 0 ? vocab : hidden, hidden));
        }
        b.layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(vocab)
                .activation(Activation.SOFTMAX).build());
        return init(b.build(), setup, log);
    }

    /** One-step-ahead forecaster: a recurrent layer and a linear output at every time step (MSE). */
    public static MultiLayerNetwork timeSeriesForecaster(Setup setup, int features, int hidden, StepLog log) {
        MultiLayerConfiguration conf = base(setup).list()
                .layer(recurrent(setup.cell(), features, hidden))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(hidden).nOut(1)
                        .activation(Activation.IDENTITY).build())
                .build();
        return init(conf, setup, log);
    }

    /** Sequence classifier: a recurrent layer read at its last time step, softmax over the classes. */
    public static MultiLayerNetwork sequenceClassifier(Setup setup, int features, int hidden, int classes,
                                                       StepLog log) {
        MultiLayerConfiguration conf = base(setup).list()
                .layer(new LastTimeStep(recurrent(setup.cell(), features, hidden)))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(classes)
                        .activation(Activation.SOFTMAX).build())
                .build();
        return init(conf, setup, log);
    }

    private static NeuralNetConfiguration.Builder base(Setup setup) {
        IUpdater updater = setup.clip().isNone() ? setup.optimiser()
                : new ClippingUpdater(setup.optimiser(), setup.clip().strategy());
        return new NeuralNetConfiguration.Builder().seed(setup.seed()).weightInit(WeightInit.XAVIER).updater(updater);
    }

    private static Layer recurrent(Cell cell, int nIn, int nOut) {
        return switch (cell) {
            case LSTM -> new LSTM.Builder().nIn(nIn).nOut(nOut).activation(Activation.TANH).build();
            case GRU -> new GRU.Builder().nIn(nIn).nOut(nOut).build();
        };
    }

    private static MultiLayerNetwork init(MultiLayerConfiguration conf, Setup setup, StepLog log) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        if (setup.clip().isNone()) {
            net.addListeners(log.gradientNormListener());   // norms only, nothing is clipped
        } else {
            net.addListeners(new ClippingListener(log.history(), log));   // required by the library
        }
        return net;
    }
}
