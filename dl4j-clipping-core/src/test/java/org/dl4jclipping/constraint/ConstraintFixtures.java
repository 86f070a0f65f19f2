package org.dl4jclipping.constraint;

import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.layers.LayerConstraint;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Small double-precision networks (seed 12345) and data for the constraint tests. SGD with learning rate 1.0 on
 * inputs of standard deviation 2 moves the weights far enough in one step that a bound around the initial
 * weight scale is crossed by many elements and units (each test asserts that it is, so it proves something).
 */
final class ConstraintFixtures {

    static final long SEED = 12345;
    static final int BATCH = 8;

    private ConstraintFixtures() {
    }

    /** The global builder: double, Xavier, Sgd(1.0). */
    static NeuralNetConfiguration.Builder base() {
        return new NeuralNetConfiguration.Builder().seed(SEED).dataType(DataType.DOUBLE)
                .weightInit(WeightInit.XAVIER).updater(new Sgd(1.0));
    }

    /**
     * Dense(4 -> 5) -> Dense(5 -> 6) -> Output(6 -> 3); {@code constraints[i]} (null for none) is given to layer
     * {@code i} with {@code constrainWeights}.
     */
    static MultiLayerConfiguration mlpConf(NeuralNetConfiguration.Builder base, LayerConstraint... constraints) {
        return base.list()
                .layer(weights(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH), constraints, 0)
                        .build())
                .layer(weights(new DenseLayer.Builder().nIn(5).nOut(6).activation(Activation.TANH), constraints, 1)
                        .build())
                .layer(weights(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX), constraints, 2).build())
                .build();
    }

    /** Conv(3x3, 2 -> 4 channels) -> Dense(-> 5) -> Output(-> 3) on 5x5 inputs, constraints as in the MLP. */
    static MultiLayerConfiguration cnnConf(LayerConstraint... constraints) {
        return base().list()
                .layer(weights(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.TANH),
                        constraints, 0).build())
                .layer(weights(new DenseLayer.Builder().nOut(5).activation(Activation.TANH), constraints, 1)
                        .build())
                .layer(weights(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX), constraints, 2).build())
                .setInputType(InputType.convolutional(5, 5, 2))
                .build();
    }

    @SuppressWarnings("unchecked")
    private static <B extends org.deeplearning4j.nn.conf.layers.Layer.Builder<B>> B weights(B b,
            LayerConstraint[] constraints, int i) {
        if (i < constraints.length && constraints[i] != null) {
            b.constrainWeights(constraints[i]);
        }
        return b;
    }

    static MultiLayerNetwork init(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static DataSet mlpData() {
        return new DataSet(randn(1, BATCH, 4), oneHot(2, BATCH, 3));
    }

    static DataSet cnnData() {
        return new DataSet(randn(3, BATCH, 2, 5, 5), oneHot(4, BATCH, 3));
    }

    static INDArray randn(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape).muli(2.0);
    }

    static INDArray oneHot(long seed, int rows, int classes) {
        INDArray l = Nd4j.zeros(DataType.DOUBLE, rows, classes);
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < rows; i++) {
            l.putScalar(i, r.nextInt(classes), 1.0);
        }
        return l;
    }

    /** A parameter of a layer, as a detached copy. */
    static INDArray param(MultiLayerNetwork net, int layer, String key) {
        return net.getLayer(layer).getParam(key).dup();
    }

    /** Applies {@code f} to a copy of {@code a}. */
    static INDArray applied(INDArray a, UnaryOperator<INDArray> f) {
        return f.apply(a.dup());
    }
}
