package org.dl4jclipping.privacy;

import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Small networks with fixed seeds and a batch of data each, in double or float, for the per-example gradient and
 * DP-SGD tests: every layer type with a fast path (with masks where the layer takes them), one the fast path does
 * not cover (LSTM), and one it refuses (BatchNormalization).
 */
final class PrivateNets {

    /** A network and a batch for it. */
    record Case(String name, MultiLayerNetwork net, DataSet batch) {
        @Override
        public String toString() {
            return name + " " + net.params().dataType();
        }
    }

    private PrivateNets() {
    }

    static NeuralNetConfiguration.ListBuilder list(DataType type, IUpdater updater) {
        return new NeuralNetConfiguration.Builder().seed(12345).dataType(type).updater(updater).list();
    }

    static MultiLayerNetwork init(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** Dense(4, 5, tanh) - Dense(5, 3, sigmoid) - Output(3, 2, softmax, MCXENT), batch 6. */
    static Case mlp(DataType type, IUpdater updater) {
        MultiLayerNetwork net = init(list(type, updater)
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(3).activation(Activation.SIGMOID).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(3).nOut(2).activation(Activation.SOFTMAX)
                        .build())
                .build());
        return new Case("mlp", net, new DataSet(gaussian(type, 1, 6, 4), oneHot(type, 2, 6, 2)));
    }

    /**
     * Dense(3, n, tanh) on each time step - RnnOutput(n, 2, softmax, MCXENT), NCW, batch 4 of length {@code t},
     * example i of length t - i (feature and label masks); {@code n} decides ghost or explicit norms.
     */
    static Case timeSeries(DataType type, int t, int n, boolean labelMask) {
        MultiLayerNetwork net = init(list(type, new Sgd(0.1))
                .layer(new DenseLayer.Builder().nOut(n).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.recurrent(3, t))
                .build());
        INDArray mask = lengths(type, 4, t);
        INDArray labels = Nd4j.create(type, 4, 2, t);
        Random r = new Random(3);
        for (int i = 0; i < 4; i++) {
            for (int s = 0; s < t; s++) {
                labels.putScalar(new int[] {i, r.nextInt(2), s}, 1);
            }
        }
        return new Case("dense+rnnOutput T=" + t + " n=" + n + (labelMask ? " masks" : " feature mask"), net,
                new DataSet(gaussian(type, 2, 4, 3, t), labels, mask, labelMask ? mask.dup() : null));
    }

    /** Embedding(7, 4, identity) - Dense(4, 3, tanh) - Output(3, 2, softmax), tokens with repeats, batch 5. */
    static Case embedding(DataType type) {
        MultiLayerNetwork net = init(list(type, new Sgd(0.1))
                .layer(new EmbeddingLayer.Builder().nIn(7).nOut(4).activation(Activation.IDENTITY).build())
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(3).nOut(2).activation(Activation.SOFTMAX)
                        .build())
                .build());
        INDArray tokens = Nd4j.createFromArray(new double[][] {{3}, {0}, {3}, {6}, {1}}).castTo(type);
        return new Case("embedding", net, new DataSet(tokens, oneHot(type, 4, 5, 2)));
    }

    /**
     * EmbeddingSequence(6, 4, tanh, length 5, with bias) - RnnOutput(4, 3, softmax), batch 4 with repeated tokens
     * inside each sequence, variable lengths (feature and label masks), in {@code format}.
     */
    static Case embeddingSequence(DataType type, RNNFormat format) {
        int t = 5;
        MultiLayerNetwork net = init(list(type, new Sgd(0.1))
                .layer(new EmbeddingSequenceLayer.Builder().nIn(6).nOut(4).inputLength(t).hasBias(true)
                        .activation(Activation.TANH).outputDataFormat(format).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(4).nOut(3).activation(Activation.SOFTMAX)
                        .dataFormat(format).build())
                .build());
        INDArray tokens = Nd4j.createFromArray(new double[][] {
                {1, 1, 2, 5, 1}, {0, 3, 3, 3, 2}, {4, 4, 0, 1, 5}, {2, 5, 2, 0, 0}}).castTo(type);
        INDArray labels = Nd4j.create(type, format == RNNFormat.NCW ? new long[] {4, 3, t} : new long[] {4, t, 3});
        Random r = new Random(5);
        for (int i = 0; i < 4; i++) {
            for (int s = 0; s < t; s++) {
                int c = r.nextInt(3);
                labels.putScalar(format == RNNFormat.NCW ? new int[] {i, c, s} : new int[] {i, s, c}, 1);
            }
        }
        INDArray mask = lengths(type, 4, t);
        return new Case("embeddingSequence " + format, net, new DataSet(tokens, labels, mask, mask.dup()));
    }

    /** LSTM(3, 4) - RnnOutput(4, 2): a layer without a fast path (generic path), masked, batch 3, T 4. */
    static Case lstm(DataType type) {
        MultiLayerNetwork net = init(list(type, new Sgd(0.1))
                .layer(new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MSE).nIn(4).nOut(2).activation(Activation.IDENTITY)
                        .build())
                .build());
        INDArray mask = lengths(type, 3, 4);
        return new Case("lstm", net, new DataSet(gaussian(type, 7, 3, 3, 4), gaussian(type, 8, 3, 2, 4), mask,
                mask.dup()));
    }

    /** Dense - BatchNormalization (named "bn") - Output. */
    static MultiLayerNetwork batchNorm() {
        return init(list(DataType.DOUBLE, new Sgd(0.1))
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).build())
                .layer(new BatchNormalization.Builder().name("bn").build())
                .layer(new OutputLayer.Builder(LossFunction.MSE).nOut(2).activation(Activation.IDENTITY).build())
                .setInputType(InputType.feedForward(4))
                .build());
    }

    /** Standard normal values with a fixed seed. */
    static INDArray gaussian(DataType type, long seed, long... shape) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.DOUBLE, shape);
        double[] v = new double[(int) x.length()];
        for (int k = 0; k < v.length; k++) {
            v[k] = r.nextGaussian();
        }
        return Nd4j.createFromArray(v).reshape(shape).castTo(type);
    }

    /** One-hot rows, classes drawn with a fixed seed. */
    static INDArray oneHot(DataType type, long seed, int rows, int classes) {
        Random r = new Random(seed);
        INDArray y = Nd4j.create(type, rows, classes);
        for (int i = 0; i < rows; i++) {
            y.putScalar(i, r.nextInt(classes), 1);
        }
        return y;
    }

    /** A [b, t] mask, example i of length t - i (at least 1). */
    static INDArray lengths(DataType type, int b, int t) {
        INDArray m = Nd4j.create(type, b, t);
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < Math.max(1, t - i); s++) {
                m.putScalar(i, s, 1);
            }
        }
        return m;
    }
}
