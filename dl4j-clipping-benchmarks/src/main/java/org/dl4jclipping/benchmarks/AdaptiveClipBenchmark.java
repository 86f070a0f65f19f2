package org.dl4jclipping.benchmarks;

import java.util.List;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Adaptive strategies per step on the char-LSTM layout (0.87M float parameters: 2 x LSTM 256, vocabulary 65,
 * RnnOutputLayer 65), against plain global-norm clipping on the same arrays.
 *
 * <p>Gradients N(0, 1), weights N(0, 0.1^2), as 'f'-order views of one buffer each. A per-invocation setup restores
 * the gradients (one memcpy, not measured), so every call sees the same input:
 * <ul>
 *   <li>{@code globalNorm}: {@code Clip.globalNorm(1.0)}: every call scales every array.</li>
 *   <li>{@code agc}: {@code Clip.agc(0.01)}: one L2 norm per unit (column) of gradient and weights, 2,378 units in
 *       the two LSTM layers (the output layer is excluded by default); every unit clips.</li>
 *   <li>{@code autoClip}: {@code Clip.autoClip(10)} with its default window of 1,000: the global norm, one history
 *       write, a copy and sort of the history for the percentile; in steady state (equal norms) nothing clips.</li>
 *   <li>{@code zClip}: {@code Clip.zClip()}: the global norm and the EMA update; after its 25-step warm-up, equal
 *       norms are no spike, so nothing clips.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar dl4j-clipping-benchmarks/target/benchmarks.jar AdaptiveClipBenchmark -prof gc}
 */
@State(Scope.Thread)
public class AdaptiveClipBenchmark extends Harness.Kernel {

    private INDArray original;
    private INDArray flat;
    private Clipper globalNorm;
    private Clipper agc;
    private Clipper autoClip;
    private Clipper zClip;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        long[][] shapes = Fixtures.shapes("charLstm");
        original = Fixtures.gaussian(Fixtures.length(shapes));
        flat = original.dup();
        List<INDArray> grads = Fixtures.views(flat, shapes);
        List<INDArray> weights = Fixtures.views(Fixtures.gaussian(Fixtures.length(shapes)).muli(0.1), shapes);
        String[] layers = {"lstm0", "lstm0", "lstm0", "lstm1", "lstm1", "lstm1", "output", "output"};
        String[] params = {"W", "RW", "b", "W", "RW", "b", "W", "b"};
        GradientLayout.Builder b = GradientLayout.builder();
        for (int i = 0; i < grads.size(); i++) {
            b.add(layers[i], params[i], grads.get(i), weights.get(i));
        }
        GradientLayout layout = b.build();
        globalNorm = clipper(Clip.globalNorm(1.0), layout);
        agc = clipper(Clip.agc(0.01), layout);
        autoClip = clipper(Clip.autoClip(10), layout);
        zClip = clipper(Clip.zClip(), layout);
    }

    /** A clipper past its warm-up: 30 steps on the original data. */
    private Clipper clipper(ClipStrategy s, GradientLayout layout) {
        Clipper c = new Clipper(s, layout);
        for (int i = 0; i < 30; i++) {
            Fixtures.restore(flat, original);
            c.clip(i);
        }
        return c;
    }

    /** Before every call: the original gradients back (one memcpy, not measured, no heap allocation). */
    @Setup(Level.Invocation)
    public void restore() {
        Fixtures.restore(flat, original);
    }

    @Benchmark
    public ClipReport globalNorm() {
        return globalNorm.clip(100);
    }

    @Benchmark
    public ClipReport agc() {
        return agc.clip(100);
    }

    @Benchmark
    public ClipReport autoClip() {
        return autoClip.clip(100);
    }

    @Benchmark
    public ClipReport zClip() {
        return zClip.clip(100);
    }
}
