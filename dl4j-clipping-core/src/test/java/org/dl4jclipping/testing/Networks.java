package org.dl4jclipping.testing;

import java.util.function.Function;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The real networks the integration is checked on, in double precision (or float, {@link #inPrecision}) with fixed seeds, each with a minibatch
 * of data: an MLP, a CNN, an LSTM with RnnOutputLayer (optionally masked), a two-input ComputationGraph with a
 * merge vertex, and three networks whose parameters fall into several DL4J updater blocks (BatchNormalization,
 * a frozen layer, different updaters per layer).
 *
 * <p>{@code updater} maps a learning rate to the updater configuration to use (for example
 * {@code lr -> new ClippingUpdater(new Sgd(lr), strategy)}); networks with per-layer updaters call it with
 * different rates.
 */
public final class Networks {

    /** A network and one minibatch for it. */
    public record Fixture(String name, Model model, DataSet data, MultiDataSet multiData) {
        public int batchSize() {
            return data != null ? data.numExamples() : (int) multiData.getFeatures(0).size(0);
        }

        /** Fits one minibatch. */
        public void fit() {
            if (model instanceof MultiLayerNetwork net) {
                net.fit(data);
            } else {
                ((ComputationGraph) model).fit(multiData);
            }
        }
    }

    public static final long SEED = 12345;
    public static final int BATCH = 6;

    /** The data type of the networks and data built now (see {@link #inPrecision}); DOUBLE unless set. */
    private static DataType type = DataType.DOUBLE;

    private Networks() {
    }

    /**
     * Builds with networks and data in {@code dataType} (FLOAT: DL4J's default) instead of DOUBLE: the fixtures
     * are the same networks with the same seeds in either precision. Not for concurrent use.
     */
    public static synchronized <T> T inPrecision(DataType dataType, java.util.function.Supplier<T> build) {
        DataType before = type;
        type = dataType;
        try {
            return build.get();
        } finally {
            type = before;
        }
    }

    private static NeuralNetConfiguration.Builder base(IUpdater updater) {
        return new NeuralNetConfiguration.Builder().seed(SEED).dataType(type)
                .weightInit(WeightInit.XAVIER).updater(updater);
    }

    private static INDArray rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape).muli(2.0).castTo(type);
    }

    private static INDArray oneHot(long seed, int rows, int classes) {
        INDArray l = Nd4j.zeros(type, rows, classes);
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < rows; i++) {
            l.putScalar(i, r.nextInt(classes), 1.0);
        }
        return l;
    }

    public static Fixture mlp(Function<Double, IUpdater> updater) {
        MultiLayerConfiguration conf = base(updater.apply(1.0)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        return new Fixture("MLP", init(conf), new DataSet(rand(1, BATCH, 4), oneHot(2, BATCH, 3)), null);
    }

    public static Fixture cnn(Function<Double, IUpdater> updater) {
        MultiLayerConfiguration conf = base(updater.apply(1.0)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.TANH).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2)
                        .stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2))
                .build();
        return new Fixture("CNN", init(conf), new DataSet(rand(3, BATCH, 2, 6, 6), oneHot(4, BATCH, 3)), null);
    }

    /** LSTM(3 -> 4) -> RnnOutputLayer(4 -> 2), 5 time steps; with masks when {@code masked}. */
    public static Fixture lstm(Function<Double, IUpdater> updater, boolean masked) {
        MultiLayerConfiguration conf = base(updater.apply(1.0)).list()
                .layer(new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
        int t = 5;
        INDArray labels = Nd4j.zeros(type, BATCH, 2, t);
        java.util.Random r = new java.util.Random(6);
        for (int i = 0; i < BATCH; i++) {
            for (int s = 0; s < t; s++) {
                labels.putScalar(new int[] {i, r.nextInt(2), s}, 1.0);
            }
        }
        DataSet ds = new DataSet(rand(5, BATCH, 3, t), labels);
        if (masked) {
            INDArray mask = Nd4j.ones(type, BATCH, t);
            for (int i = 0; i < BATCH; i++) {
                for (int s = t - (i % 3); s < t; s++) {
                    mask.putScalar(i, s, 0.0); // sequences of length 5, 4, 3, 5, 4, 3
                }
            }
            ds.setFeaturesMaskArray(mask);
            ds.setLabelsMaskArray(mask.dup());
        }
        return new Fixture(masked ? "LSTM-masked" : "LSTM", init(conf), ds, null);
    }

    /** Two inputs, a dense layer each, merged, then an output layer. */
    public static Fixture graph(Function<Double, IUpdater> updater) {
        ComputationGraphConfiguration conf = base(updater.apply(1.0)).graphBuilder()
                .addInputs("a", "b")
                .addLayer("denseA", new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.TANH).build(), "a")
                .addLayer("denseB", new DenseLayer.Builder().nIn(2).nOut(3).activation(Activation.TANH).build(), "b")
                .addVertex("merge", new MergeVertex(), "denseA", "denseB")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(7).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "merge")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        MultiDataSet mds = new MultiDataSet(new INDArray[] {rand(7, BATCH, 3), rand(8, BATCH, 2)},
                new INDArray[] {oneHot(9, BATCH, 3)});
        return new Fixture("Graph", g, null, mds);
    }

    /** Dense -> BatchNormalization -> Dense -> Output: BatchNorm's running statistics are NoOp parameters. */
    public static Fixture batchNorm(Function<Double, IUpdater> updater) {
        MultiLayerConfiguration conf = base(updater.apply(1.0)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().nOut(5).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        return new Fixture("BatchNorm", init(conf), new DataSet(rand(10, BATCH, 4), oneHot(11, BATCH, 3)), null);
    }

    /** The MLP with its first layer frozen (transfer learning): layer 0 is never updated. */
    public static Fixture frozen(Function<Double, IUpdater> updater) {
        MultiLayerNetwork mlp = (MultiLayerNetwork) mlp(updater).model();
        MultiLayerNetwork net = new TransferLearning.Builder(mlp).setFeatureExtractor(0).build();
        return new Fixture("Frozen", net, new DataSet(rand(1, BATCH, 4), oneHot(2, BATCH, 3)), null);
    }

    /** The MLP with a different learning rate per layer (1.0, 0.5, 1.0): three updater blocks. */
    public static Fixture mixedUpdaters(Function<Double, IUpdater> updater) {
        MultiLayerConfiguration conf = base(updater.apply(1.0)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(6).activation(Activation.TANH)
                        .updater(updater.apply(0.5)).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        return new Fixture("MixedUpdaters", init(conf), new DataSet(rand(1, BATCH, 4), oneHot(2, BATCH, 3)),
                null);
    }

    /** The MLP with decoupled weight decay {@code weightDecay} (applied after the updater, never clipped). */
    public static Fixture mlpWithWeightDecay(Function<Double, IUpdater> updater, double weightDecay) {
        MultiLayerConfiguration conf = base(updater.apply(1.0)).weightDecay(weightDecay).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        return new Fixture("MLP-weightDecay", init(conf), new DataSet(rand(1, BATCH, 4), oneHot(2, BATCH, 3)),
                null);
    }

    /** Sequence length and minibatch of {@link #lstmTbptt}. */
    public static final int TBPTT_T = 12;
    public static final int TBPTT_BATCH = 3;
    public static final int TBPTT_LENGTH = 5;

    /**
     * LSTM(3 -> 4) -> RnnOutputLayer(4 -> 2) with truncated BPTT (forward = backward = 5), 12 time steps,
     * minibatch 3, no masks: one {@code fit} makes three updates, on segments of 5, 5 and 2 steps.
     */
    public static Fixture lstmTbptt(Function<Double, IUpdater> updater) {
        MultiLayerConfiguration conf = base(updater.apply(1.0)).list()
                .layer(new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .backpropType(org.deeplearning4j.nn.conf.BackpropType.TruncatedBPTT)
                .tBPTTForwardLength(TBPTT_LENGTH).tBPTTBackwardLength(TBPTT_LENGTH)
                .build();
        INDArray labels = Nd4j.zeros(type, TBPTT_BATCH, 2, TBPTT_T);
        java.util.Random r = new java.util.Random(13);
        for (int i = 0; i < TBPTT_BATCH; i++) {
            for (int s = 0; s < TBPTT_T; s++) {
                labels.putScalar(new int[] {i, r.nextInt(2), s}, 1.0);
            }
        }
        return new Fixture("LSTM-TBPTT", init(conf), new DataSet(rand(12, TBPTT_BATCH, 3, TBPTT_T), labels), null);
    }

    private static MultiLayerNetwork init(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @SuppressWarnings("unused")
    private static final MultiDataSetPreProcessor NONE = null;
}
