package org.dl4jclipping.benchmarks;

import java.util.Locale;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One training step ({@code fit} of one minibatch) of a char-LSTM: 2 x NativeLSTM 256 (what the examples use),
 * vocabulary 65, RnnOutputLayer 65 (0.87M parameters), batch 32, 64 time steps, float, Adam(1e-3); and the share of
 * that step the clipping takes, for every strategy.
 *
 * <ul>
 *   <li>{@code none}: no clipping.</li>
 *   <li>{@code clipped}: {@code ClippingUpdater(Adam, strategy)} plus {@link ClippingListener}, {@code strategy}
 *       one of global norm 0.5, value 0.01, zero-out 0.05, AGC 0.01, AutoClip 10, ZClip, AdaGC.</li>
 * </ul>
 *
 * <p>The difference of two step scores cannot resolve a 1% overhead (a step varies by more than that from one
 * to the next), so the clipped runs also time the clipping itself in-process (the listener's
 * {@code onGradientCalculation}, wrapped with {@code System.nanoTime}) and print its mean and its share of the
 * mean step at the end of the trial ({@code clipping STRATEGY: ... ms per step = ...% of the step}). T = 64 rather
 * than the char-LM's 100 makes the step shorter and so the share larger: an upper bound for T = 100.
 *
 * <p>Run: {@code OMP_NUM_THREADS=1 java -jar dl4j-clipping-benchmarks/target/benchmarks.jar TrainingStepBenchmark}
 */
public class TrainingStepBenchmark extends Harness.Step {

    /** A clipping listener that also times itself. */
    static final class TimedClippingListener extends ClippingListener {
        private static final long serialVersionUID = 1L;
        long nanos;
        long calls;

        @Override
        public void onGradientCalculation(Model model) {
            long t0 = System.nanoTime();
            super.onGradientCalculation(model);
            nanos += System.nanoTime() - t0;
            calls++;
        }
    }

    /** The network and minibatch of one method. */
    public abstract static class Net {
        MultiLayerNetwork net;
        DataSet batch;
        long stepNanos;
        long steps;

        void build(ClipStrategy clip) {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            net = new MultiLayerNetwork(Fixtures.charRnn("native_lstm",
                    clip != null ? new ClippingUpdater(Fixtures.adam(), clip) : Fixtures.adam()));
            net.init();
            batch = Fixtures.charBatch();
        }

        void fit() {
            long t0 = System.nanoTime();
            net.fit(batch);
            stepNanos += System.nanoTime() - t0;
            steps++;
        }
    }

    @State(Scope.Thread)
    public static class Plain extends Net {
        @Setup(Level.Trial)
        public void setUp() {
            build(null);
        }
    }

    /** A clipped network whose listener times the clipping. */
    @State(Scope.Thread)
    public static class Clipped extends Net {
        @Param({"globalNorm", "value", "zeroOut", "agc", "autoClip", "zClip", "adaGC"})
        public String strategy;

        final TimedClippingListener listener = new TimedClippingListener();

        @Setup(Level.Trial)
        public void setUp() {
            build(switch (strategy) {
                case "globalNorm" -> Clip.globalNorm(0.5);
                case "value" -> Clip.value(0.01);
                case "zeroOut" -> Clip.zeroOut(0.05);
                case "agc" -> Clip.agc(0.01);
                case "autoClip" -> Clip.autoClip(10);
                case "zClip" -> Clip.zClip();
                case "adaGC" -> Clip.adaGC();
                default -> throw new IllegalArgumentException("unknown strategy " + strategy);
            });
            net.addListeners(listener);
        }

        @TearDown(Level.Trial)
        public void report() {
            double clipMs = listener.nanos / 1e6 / Math.max(1, listener.calls);
            double stepMs = stepNanos / 1e6 / Math.max(1, steps);
            System.out.printf(Locale.ROOT, "%nclipping %s: %.3f ms per step (%d steps) = %.3f%% of the step (%.1f ms)%n",
                    strategy, clipMs, listener.calls, 100 * clipMs / stepMs, stepMs);
        }
    }

    @Benchmark
    public MultiLayerNetwork none(Plain s) {
        s.fit();
        return s.net;
    }

    @Benchmark
    public MultiLayerNetwork clipped(Clipped s) {
        s.fit();
        return s.net;
    }
}
