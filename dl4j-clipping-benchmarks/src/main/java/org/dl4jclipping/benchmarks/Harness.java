package org.dl4jclipping.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The harness settings of every benchmark, in one place: benchmark classes extend {@link Kernel} (calls of a few
 * milliseconds) or {@link Step} (training steps of about 1.5 s). JMH inherits these annotations.
 *
 * <p>Sized so that the whole suite runs in a few minutes on a 2-core machine: one fork per benchmark (a fresh
 * JVM, so ND4J's native state does not carry over), short iterations, an error interval with every score. On a
 * shared machine rerun with more iterations ({@code -wi 5 -i 10}) when the error is wide.
 *
 * <p>JVM options: ND4J allocates off-heap; the heap stays small (the benchmarks allocate next to nothing on it)
 * and the off-heap limits match the test runs of the other modules.
 */
public final class Harness {

    private Harness() {
    }

    /** Calls of a few milliseconds: average time per call, in ms. */
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {
        "-Xms1g", "-Xmx2g",
        "-Dorg.bytedeco.javacpp.maxbytes=6G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=10G"})
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public abstract static class Kernel {
    }

    /** Training steps (about 1.5 s each): a few single calls, time per call in ms. */
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {
        "-Xms1g", "-Xmx2g",
        "-Dorg.bytedeco.javacpp.maxbytes=6G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=10G"})
    @Warmup(iterations = 3, batchSize = 1)
    @Measurement(iterations = 8, batchSize = 1)
    public abstract static class Step {
    }
}
