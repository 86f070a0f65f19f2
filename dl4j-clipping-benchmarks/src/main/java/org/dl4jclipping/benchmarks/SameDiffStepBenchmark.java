package org.dl4jclipping.benchmarks;

import java.util.Locale;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.dl4j.SameDiffClipping;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.weightinit.impl.XavierInitScheme;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One training step of the same MLP in SameDiff ({@code sd.fit}) and in the layer API ({@code MultiLayerNetwork}),
 * without clipping and with global-norm clipping (0.5, never active or always active makes no difference to the
 * cost), side by side: 512 -> 1024 (tanh) -> 512 (tanh) -> 10 (softmax, cross-entropy), 1.056M parameters, batch
 * 64, float, Adam(1e-3).
 *
 * <p>SameDiff's clipping defers the step (see {@code SameDiffClipping}): each gradient is copied into a buffer and
 * the immediate update zeroed, and at the end of the backward pass the listener clips, runs Adam and updates the
 * variables; the clipped runs time that end-of-step work in-process and print it with its share of the step, as
 * TrainingStepBenchmark does for the layer API. The end-of-step work includes Adam and the update, which the plain
 * step also does (inside the backward pass), so the JMH ratio clipped / plain is the cost.
 *
 * <p>Steps of some 10 ms: average time over 1-second iterations ({@link Harness.Kernel}).
 *
 * <p>Run: {@code OMP_NUM_THREADS=1 java -jar dl4j-clipping-benchmarks/target/benchmarks.jar SameDiffStepBenchmark}
 */
public class SameDiffStepBenchmark extends Harness.Kernel {

    static final int[] SIZES = {512, 1024, 512, 10};
    static final int BATCH = 64;

    /** A SameDiff clipping listener that times its end-of-step work. */
    static final class TimedSameDiffClipping extends SameDiffClipping {
        long nanos;
        long calls;

        @Override
        public void iterationDone(SameDiff sd, At at, MultiDataSet data, Loss loss) {
            long t0 = System.nanoTime();
            super.iterationDone(sd, at, data, loss);
            nanos += System.nanoTime() - t0;
            calls++;
        }
    }

    /** The two APIs, each plain or clipped. */
    @State(Scope.Thread)
    public static class Model {
        @Param({"samediff", "layers"})
        public String api;

        @Param({"none", "globalNorm"})
        public String clip;

        SameDiff sd;
        MultiLayerNetwork net;
        DataSet batch;
        TimedSameDiffClipping timed;
        long stepNanos;
        long steps;

        @Setup(Level.Trial)
        public void setUp() {
            Nd4j.getRandom().setSeed(12345);
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            IUpdater updater = "none".equals(clip) ? new Adam(1e-3) : new ClippingUpdater(new Adam(1e-3),
                    Clip.globalNorm(0.5));
            INDArray x = Nd4j.randn(DataType.FLOAT, BATCH, SIZES[0]);
            INDArray y = Nd4j.zeros(DataType.FLOAT, BATCH, SIZES[3]);
            for (int i = 0; i < BATCH; i++) {
                y.putScalar(i, i % SIZES[3], 1f);
            }
            batch = new DataSet(x, y);
            if ("samediff".equals(api)) {
                sd = SameDiff.create();
                SDVariable h = sd.placeHolder("in", DataType.FLOAT, -1, SIZES[0]);
                SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, SIZES[3]);
                for (int l = 0; l < 3; l++) {
                    SDVariable w = sd.var("dense" + l + "/W", new XavierInitScheme('c', SIZES[l], SIZES[l + 1]),
                            DataType.FLOAT, SIZES[l], SIZES[l + 1]);
                    SDVariable b = sd.var("dense" + l + "/b", DataType.FLOAT, 1, SIZES[l + 1]);
                    h = h.mmul(w).add(b);
                    h = l < 2 ? sd.math.tanh(h) : h;
                }
                // softmax cross-entropy on the logits: stable when the fixed batch is fitted to saturation
                // (log(softmax) went to -inf after ~28 steps, which the clipping reports as a non-finite gradient)
                sd.loss.softmaxCrossEntropy("loss", label, h, null);
                sd.setTrainingConfig(TrainingConfig.builder().updater(updater)
                        .dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
                if (!"none".equals(clip)) {
                    timed = new TimedSameDiffClipping();
                    sd.addListeners(timed);
                }
            } else {
                net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(12345).dataType(DataType.FLOAT)
                        .weightInit(WeightInit.XAVIER).updater(updater).list()
                        .layer(new DenseLayer.Builder().nIn(SIZES[0]).nOut(SIZES[1]).activation(Activation.TANH)
                                .build())
                        .layer(new DenseLayer.Builder().nIn(SIZES[1]).nOut(SIZES[2]).activation(Activation.TANH)
                                .build())
                        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(SIZES[2])
                                .nOut(SIZES[3]).activation(Activation.SOFTMAX).build())
                        .build());
                net.init();
                if (!"none".equals(clip)) {
                    net.addListeners(new ClippingListener());
                }
            }
        }

        void step() {
            long t0 = System.nanoTime();
            if (sd != null) {
                sd.fit(batch);
            } else {
                net.fit(batch);
            }
            stepNanos += System.nanoTime() - t0;
            steps++;
        }

        @TearDown(Level.Trial)
        public void report() {
            double stepMs = stepNanos / 1e6 / Math.max(1, steps);
            if (timed != null) {
                double endMs = timed.nanos / 1e6 / Math.max(1, timed.calls);
                System.out.printf(Locale.ROOT, "%nsamediff %s: end-of-step work (clip + Adam + update) %.3f ms per "
                        + "step (%d steps) = %.2f%% of the step (%.2f ms)%n", clip, endMs, timed.calls,
                        100 * endMs / stepMs, stepMs);
            } else {
                System.out.printf(Locale.ROOT, "%n%s %s: %.2f ms per step (%d steps)%n", api, clip, stepMs, steps);
            }
        }
    }

    @Benchmark
    public Object step(Model m) {
        m.step();
        return m.sd != null ? m.sd : m.net;
    }
}
