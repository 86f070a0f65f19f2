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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One training step ({@code fit} of one minibatch) of a char-LSTM: 2 x LSTM 256, vocabulary 65, RnnOutputLayer
 * 65 (0.87M parameters), batch 32, 64 time steps, float, Adam(1e-3).
 *
 * <ul>
 *   <li>{@code none}: no clipping.</li>
 *   <li>{@code globalNorm}: {@code ClippingUpdater(Adam, Clip.globalNorm(0.5))} plus {@link ClippingListener}.</li>
 *   <li>{@code agc}: {@code ClippingUpdater(Adam, Clip.agc(0.01))} plus {@link ClippingListener}.</li>
 * </ul>
 *
 * <p>A step takes about 1.5 s and varies by +-30% from run to run on a shared machine, far more than the
 * clipping costs, so the difference of the two scores cannot resolve a 1% overhead. The {@code globalNorm} run
 * therefore also times the clipping itself in-process (the listener's {@code onGradientCalculation}, wrapped with
 * {@code System.nanoTime}) and prints its mean and its share of the mean step at the end of the trial
 * ({@code clipping: ... ms per step = ...% of the step}). {@link GlobalNormClipBenchmark} with
 * {@code layout=charLstm} measures the same clipping call with JMH.
 *
 * <p>Run: {@code java -jar dl4j-clipping-benchmarks/target/benchmarks.jar TrainingStepBenchmark -prof gc}
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

        void build(ClipStrategy clip, boolean gru) {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            net = new MultiLayerNetwork(Fixtures.charRnn(gru,
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
            build(null, false);
        }
    }

    /** A clipped network whose listener times the clipping. */
    public abstract static class Clipped extends Net {
        TimedClippingListener listener = new TimedClippingListener();

        void setUp(ClipStrategy clip) {
            build(clip, false);
            net.addListeners(listener);
        }

        @TearDown(Level.Trial)
        public void report() {
            double clipMs = listener.nanos / 1e6 / Math.max(1, listener.calls);
            double stepMs = stepNanos / 1e6 / Math.max(1, steps);
            System.out.printf(Locale.ROOT, "%nclipping: %.3f ms per step (%d steps) = %.3f%% of the step (%.1f ms)%n",
                    clipMs, listener.calls, 100 * clipMs / stepMs, stepMs);
        }
    }

    @State(Scope.Thread)
    public static class GlobalNorm extends Clipped {
        @Setup(Level.Trial)
        public void setUp() {
            setUp(Clip.globalNorm(0.5));
        }
    }

    @State(Scope.Thread)
    public static class Agc extends Clipped {
        @Setup(Level.Trial)
        public void setUp() {
            setUp(Clip.agc(0.01));
        }
    }

    @Benchmark
    public MultiLayerNetwork agc(Agc s) {
        s.fit();
        return s.net;
    }

    @Benchmark
    public MultiLayerNetwork none(Plain s) {
        s.fit();
        return s.net;
    }

    @Benchmark
    public MultiLayerNetwork globalNorm(GlobalNorm s) {
        s.fit();
        return s.net;
    }
}
