package org.dl4jclipping.benchmarks;

import java.util.List;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Element-wise clipping of 1e7 floats (N(0, 1) values; {@code layout} 1 = one array, 100 = 100 views of 1e5 in
 * one buffer, as a network's flattened gradient): value clipping and zero-out in our engine, against one ND4J
 * element-wise pass and DL4J's {@code ClipElementWiseAbsoluteValue}.
 *
 * <p>Threshold 2.0: about 4.6% of the elements lie outside [-2, 2], so every call clips (or zeroes) about 455,000
 * of them. As in {@link GlobalNormClipBenchmark}, a per-invocation setup copies the original values back with
 * one {@code memcpy} before every call of every method (not measured, no heap allocation), so that every call
 * sees the same input and really clips.
 *
 * <p>Methods:
 * <ul>
 *   <li>{@code oursValue}: {@link Clipper} with {@code Clip.value(2.0)} (clamp into [-2, 2]).</li>
 *   <li>{@code oursZeroOut}: {@link Clipper} with {@code Clip.zeroOut(2.0)} (zero where |x| > 2).</li>
 *   <li>{@code elementwiseFloor}: {@code muli(0.5f)} in place over the whole buffer: one native element-wise
 *       read-and-write pass, the least an in-place element-wise clip can cost (a factor that changes the data:
 *       libnd4j appears to skip a multiplication by 1).</li>
 *   <li>{@code dl4jClipValue}: what {@code BaseMultiLayerUpdater.preApply} runs for
 *       {@code ClipElementWiseAbsoluteValue}: the libnd4j {@code clipbyvalue} custom op, in place, with
 *       floating-point arguments {@code -t, t}.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar dl4j-clipping-benchmarks/target/benchmarks.jar ElementwiseClipBenchmark -prof gc}
 */
@State(Scope.Thread)
public class ElementwiseClipBenchmark extends Harness.Kernel {

    static final double THRESHOLD = 2.0;

    @Param({"1", "100"})
    public String layout;

    private INDArray original;
    private INDArray grad;
    private Clipper value;
    private Clipper zeroOut;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        original = Fixtures.gaussian(Fixtures.TEN_MILLION);
        grad = original.dup();
        GradientLayout.Builder b = GradientLayout.builder();
        List<INDArray> views = Fixtures.views(grad, Fixtures.shapes(layout));
        for (int i = 0; i < views.size(); i++) {
            b.add(String.valueOf(i), "W", views.get(i), null);
        }
        GradientLayout gradients = b.build();
        value = new Clipper(Clip.value(THRESHOLD), gradients);
        zeroOut = new Clipper(Clip.zeroOut(THRESHOLD), gradients);
        ClipReport r = value.clip(0);
        if (r.totalClipped() < 100_000) {
            throw new IllegalStateException("value clipping moved only " + r.totalClipped() + " elements");
        }
        Fixtures.restore(grad, original);
    }

    /** Before every call: the original values back (one memcpy, not measured, no heap allocation). */
    @Setup(Level.Invocation)
    public void restore() {
        Fixtures.restore(grad, original);
    }

    @Benchmark
    public ClipReport oursValue() {
        return value.clip(1);
    }

    @Benchmark
    public ClipReport oursZeroOut() {
        return zeroOut.clip(1);
    }

    @Benchmark
    public INDArray elementwiseFloor() {
        return grad.muli(0.5f);
    }

    @Benchmark
    public INDArray dl4jClipValue() {
        // BaseMultiLayerUpdater.preApply, case ClipElementWiseAbsoluteValue (DL4J 1.0.0-M2.1, from its bytecode)
        DynamicCustomOp op = DynamicCustomOp.builder("clipbyvalue")
                .addInputs(grad)
                .callInplace(true)
                .addFloatingPointArguments(-THRESHOLD, THRESHOLD)
                .build();
        Nd4j.getExecutioner().exec(op);
        return grad;
    }
}
