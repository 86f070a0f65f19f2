package org.dl4jclipping.benchmarks;

import java.util.List;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Global-norm clipping of float gradients: our engine against the read floor and DL4J's per-layer clipping.
 *
 * <p>Layouts ({@code layout}): {@code 100} = 1e7 floats in 100 arrays of 1e5; {@code 1} = one array of 1e7;
 * {@code charLstm} = the 0.87M parameters of a char-LSTM (2 x LSTM 256, vocabulary 65, RnnOutputLayer 65: W
 * [65,1024], RW [256,1024], b [1,1024], W [256,1024], RW [256,1024], b [1,1024], W [256,65], b [1,65]). The
 * arrays are 'f'-order views of consecutive segments of one buffer, as a DL4J network's gradient views are.
 * Values are N(0, 1).
 *
 * <p>Threshold ({@code threshold}): {@code clipping} = 1.0, below the global norm and below every single array's
 * norm (the smallest, b [1,65], has norm ~8), so every call of every method scales every array;
 * {@code noclip} = 1e9, above every norm, so nothing is written.
 *
 * <p>Steady state: clipping changes the data (the norm drops to the threshold, and the next call would not clip).
 * So a per-invocation setup copies the original values back with one {@code memcpy} before every call of every
 * method, outside the measured time, allocating nothing on the heap: each call sees the same input and really
 * clips. All three methods get the same setup, so none does extra work inside its measured time. (Per-invocation
 * setups cost JMH two timestamps per call: negligible for calls of a millisecond and more.)
 *
 * <p>Methods:
 * <ul>
 *   <li>{@code ours}: {@link Clipper} with {@code Clip.globalNorm(threshold)} over a {@link GradientLayout} of the
 *       arrays (one L2 norm per array, then one scaling per array when the global norm exceeds the threshold,
 *       plus the per-step report).</li>
 *   <li>{@code oursParameterNorm}: {@code Clip.parameterNorm(threshold)}, each array clipped to the threshold on
 *       its own (what a loop of PyTorch's {@code clip_grad_norm_} over the parameters does).</li>
 *   <li>{@code nrm2Floor}: one BLAS {@code nrm2} per array ({@code Nd4j.getBlasWrapper().level1().nrm2}), summed:
 *       the cost of reading the data once, which no clipping can beat.</li>
 *   <li>{@code twoPassFloor}: {@code nrm2Floor}, then one BLAS {@code scal} over the whole buffer when clipping:
 *       the floor of any norm-then-scale clip.</li>
 *   <li>{@code dl4jClipL2PerLayer}: what {@code BaseMultiLayerUpdater.preApply} runs for
 *       {@link GradientNormalization#ClipL2PerLayer}, with each array as one layer's gradient view:
 *       {@code norm2Number()}, then {@code muli(threshold / norm)} when {@code norm > threshold}.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar dl4j-clipping-benchmarks/target/benchmarks.jar GlobalNormClipBenchmark -prof gc}
 */
@State(Scope.Thread)
public class GlobalNormClipBenchmark extends Harness.Kernel {

    @Param({"100", "1", "charLstm"})
    public String layout;

    @Param({"clipping", "noclip"})
    public String threshold;

    private double t;
    private INDArray original;
    private INDArray flat;
    private List<INDArray> arrays;
    private Clipper clipper;
    private Clipper parameterClipper;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        long[][] shapes = Fixtures.shapes(layout);
        original = Fixtures.gaussian(Fixtures.length(shapes));
        flat = original.dup();
        arrays = Fixtures.views(flat, shapes);
        t = threshold.equals("clipping") ? 1.0 : 1e9;
        GradientLayout.Builder b = GradientLayout.builder();
        for (int i = 0; i < arrays.size(); i++) {
            b.add("layer" + i, "W", arrays.get(i), null);
        }
        GradientLayout gradientLayout = b.build();
        clipper = new Clipper(Clip.globalNorm(t), gradientLayout);
        parameterClipper = new Clipper(Clip.parameterNorm(t), gradientLayout);
        // sanity: the threshold does what its name says, for ours and for DL4J's per-layer path
        boolean clipping = threshold.equals("clipping");
        for (INDArray a : arrays) {
            if ((a.norm2Number().doubleValue() > t) != clipping) {
                throw new IllegalStateException("an array does not clip like the others: " + a.norm2Number());
            }
        }
        ClipReport r = clipper.clip(0);
        if ((r.scale(0) < 1.0) != clipping) {
            throw new IllegalStateException("threshold " + threshold + " but scale " + r.scale(0));
        }
        Fixtures.restore(flat, original);
    }

    /** Before every call: the original values back (one memcpy, not measured, no heap allocation). */
    @Setup(Level.Invocation)
    public void restore() {
        Fixtures.restore(flat, original);
    }

    @Benchmark
    public ClipReport ours() {
        return clipper.clip(1);
    }

    /** Per-parameter norm clipping (each array to norm {@code t} on its own): PyTorch's loop of clip_grad_norm_. */
    @Benchmark
    public ClipReport oursParameterNorm() {
        return parameterClipper.clip(1);
    }

    @Benchmark
    public double nrm2Floor() {
        double ssq = 0;
        for (INDArray a : arrays) {
            double n = Nd4j.getBlasWrapper().level1().nrm2(a);
            ssq += n * n;
        }
        return Math.sqrt(ssq);
    }

    /**
     * The floor of a norm-then-scale clip: one BLAS {@code nrm2} per array (the global norm), then, when it is above
     * the threshold, one BLAS {@code scal} over the whole buffer (the arrays are consecutive segments of it). A norm
     * cannot be fused with the scaling it decides, so two passes (read; read and write) are the least any global-norm
     * clip does.
     */
    @Benchmark
    public double twoPassFloor() {
        double norm = nrm2Floor();
        if (norm > t) {
            Nd4j.getBlasWrapper().level1().scal(flat.length(), t / norm, flat);
        }
        return norm;
    }

    @Benchmark
    public double dl4jClipL2PerLayer() {
        double last = 0;
        for (INDArray layerGradView : arrays) {
            // BaseMultiLayerUpdater.preApply, case ClipL2PerLayer (DL4J 1.0.0-M2.1, from its bytecode)
            double layerL2 = layerGradView.norm2Number().doubleValue();
            if (layerL2 > t) {
                double scalingFactor = t / layerL2;
                layerGradView.muli(scalingFactor);
            }
            last = layerL2;
        }
        return last;
    }
}
