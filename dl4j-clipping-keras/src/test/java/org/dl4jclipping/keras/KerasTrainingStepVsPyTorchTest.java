package org.dl4jclipping.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After import, training with the file's own optimizer and clipping takes the steps PyTorch computes.
 *
 * <p>File: {@code keras/keras2.0-gru-clipnorm/results_model_0.h5} (Keras 2.0.9; GRU(29) with tanh, hard_sigmoid
 * and the reset gate before the recurrent product, then a softmax over the units; SGD(lr 0.02, momentum 0.9,
 * Nesterov, decay 1e-6) with clipnorm 5, which Keras 2.0.9 applies as one global norm). Fixture:
 * {@code keras-training/gru-clipnorm-steps.json}, written once by {@code src/test/python/keras_gru_clipnorm_step.py}
 * (PyTorch 1.13, float64: the GRU written out with autograd, {@code clip_grad_norm_}, Keras's Nesterov update by
 * hand): 2 sequences x 40 steps of N(0, 1) x 10 inputs (numpy RandomState(24)) and uniform labels, a per-step
 * softmax cross-entropy summed over steps and divided by the 2 examples (the file's own loss is a CTC Lambda
 * layer, which DL4J does not train), three steps on that batch; the gradient norms before clipping are 22.6, 13.4
 * and 10.4, so the clip is active at every step.
 *
 * <p>The DL4J side: this project's GRU ({@code resetAfter(false)}, DL4J's HARDSIGMOID = Keras 2's hard_sigmoid)
 * with the file's weights (Keras's gate blocks z, r, h reordered to r, z, n) and an {@code RnnLossLayer} (softmax,
 * MCXENT: the same loss); then {@link KerasTraining#read} and {@link KerasTraining#applyTo}. The DL4J network is
 * built here by hand rather than through {@code KerasImport}, whose functional import of this file gives an
 * activation output without a loss. Compared after each of the three steps, in Keras's layout: double within 1e-12
 * of the largest parameter, float within 1e-6 (float32's own rounding of parameters near 1 is 6e-8). Against the
 * fixture's Keras-style clip (no epsilon) the difference is the epsilon's, at most 1e-6 / clipnorm relative: checked
 * after the last step against the largest parameter change.
 */
class KerasTrainingStepVsPyTorchTest {

    private static final Logger LOG = LoggerFactory.getLogger(KerasTrainingStepVsPyTorchTest.class);
    private static final int U = 29;
    private static final int NIN = 13;

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void threeStepsWithFileClipping_equalPyTorch(DataType dt) throws Exception {
        Path h5 = resource("/keras/keras2.0-gru-clipnorm/results_model_0.h5");
        JsonNode fixture;
        try (InputStream in = getClass().getResourceAsStream("/keras-training/gru-clipnorm-steps.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        MultiLayerNetwork net = network(dt);
        INDArray[] keras = kerasWeights(h5);
        net.getLayer(0).setParam("W", toOurs(keras[0]).castTo(dt));
        net.getLayer(0).setParam("RW", toOurs(keras[1]).castTo(dt));
        net.getLayer(0).setParam("b", toOurs(keras[2].reshape(1, 3 * U)).castTo(dt));
        INDArray start = net.params().dup();

        KerasTraining training = KerasTraining.read(h5).orElseThrow();
        ClipHistory history = new ClipHistory(10);
        training.applyTo(net, new ClippingListener(history));

        DataSet batch = data(fixture, dt);
        double worst = 0;
        double scale = 0;
        for (int step = 0; step < 3; step++) {
            net.fit(batch);
            JsonNode expected = fixture.get("after_step").get(step);
            for (String k : new String[]{"kernel", "recurrent_kernel", "bias"}) {
                scale = Math.max(scale, matrix(expected.get(k)).amaxNumber().doubleValue());
            }
            double d = difference(net, expected);
            LOG.info("{} step {}: max |DL4J - PyTorch| = {} (global norm before clip {}, PyTorch {})", dt, step + 1, d,
                    history.steps().get(step).normBefore(), fixture.get("grad_norm_before_clip").get(step));
            worst = Math.max(worst, d);
        }
        assertThat(history.clippedSteps()).isEqualTo(3);
        double tol = dt == DataType.DOUBLE ? 1e-12 : 1e-6;
        assertThat(worst / scale).as("max difference / largest parameter").isLessThanOrEqualTo(tol);

        double change = net.params().sub(start).amaxNumber().doubleValue();
        double kerasClip = difference(net, fixture.get("after_last_step_keras_clip"));
        LOG.info("{}: max |DL4J - Keras-style clip (no epsilon)| = {}, largest parameter change {}", dt, kerasClip,
                change);
        if (dt == DataType.DOUBLE) {
            assertThat(kerasClip / change).isLessThanOrEqualTo(1e-6 / 5.0);
        }
    }

    private static MultiLayerNetwork network(DataType dt) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).dataType(dt)
                .list()
                .layer(new GRU.Builder().nIn(NIN).nOut(U).resetAfter(false).activation(Activation.TANH)
                        .gateActivationFunction(Activation.HARDSIGMOID).build())
                .layer(new RnnLossLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.init();
        return net;
    }

    /** kernel, recurrent_kernel, bias of the file's GRU, as float arrays in Keras's layout. */
    private static INDArray[] kerasWeights(Path h5) throws Exception {
        try (Hdf5Archive a = new Hdf5Archive(h5.toString())) {
            return new INDArray[]{a.readDataSet("kernel:0", "model_weights", "rnn", "rnn"),
                a.readDataSet("recurrent_kernel:0", "model_weights", "rnn", "rnn"),
                a.readDataSet("bias:0", "model_weights", "rnn", "rnn")};
        }
    }

    /** Keras's column blocks z, r, h -> ours r, z, n. */
    private static INDArray toOurs(INDArray k) {
        return Nd4j.hstack(block(k, 1), block(k, 0), block(k, 2));
    }

    /** Ours r, z, n -> Keras's z, r, h. */
    private static INDArray toKeras(INDArray o) {
        return Nd4j.hstack(block(o, 1), block(o, 0), block(o, 2));
    }

    private static INDArray block(INDArray m, int i) {
        return m.get(NDArrayIndex.all(), NDArrayIndex.interval(i * U, (i + 1) * U));
    }

    private static double difference(MultiLayerNetwork net, JsonNode expected) {
        double d = 0;
        d = Math.max(d, maxAbs(toKeras(net.getLayer(0).getParam("W")), matrix(expected.get("kernel"))));
        d = Math.max(d, maxAbs(toKeras(net.getLayer(0).getParam("RW")), matrix(expected.get("recurrent_kernel"))));
        d = Math.max(d, maxAbs(toKeras(net.getLayer(0).getParam("b")), matrix(expected.get("bias")).reshape(1,
                3 * U)));
        return d;
    }

    private static double maxAbs(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b).amaxNumber().doubleValue();
    }

    private static INDArray matrix(JsonNode n) {
        if (!n.get(0).isArray()) {
            double[] v = new double[n.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = n.get(i).doubleValue();
            }
            return Nd4j.createFromArray(v);
        }
        double[][] v = new double[n.size()][n.get(0).size()];
        for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < v[i].length; j++) {
                v[i][j] = n.get(i).get(j).doubleValue();
            }
        }
        return Nd4j.createFromArray(v);
    }

    /** Features [batch, 13, time] (NCW), one-hot labels [batch, 29, time]. */
    private static DataSet data(JsonNode f, DataType dt) {
        int b = f.get("batch").intValue();
        int t = f.get("steps").intValue();
        INDArray x = Nd4j.zeros(DataType.DOUBLE, b, NIN, t);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, b, U, t);
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t; s++) {
                for (int k = 0; k < NIN; k++) {
                    x.putScalar(new long[]{i, k, s}, f.get("x").get(i).get(s).get(k).doubleValue());
                }
                y.putScalar(new long[]{i, f.get("labels").get(i).get(s).intValue(), s}, 1.0);
            }
        }
        return new DataSet(x.castTo(dt), y.castTo(dt));
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(KerasTrainingStepVsPyTorchTest.class.getResource(name).toURI());
    }
}
