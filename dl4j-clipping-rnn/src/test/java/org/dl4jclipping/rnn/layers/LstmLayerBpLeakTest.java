package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Why {@link NativeLSTM} does not use libnd4j's {@code lstmLayer_bp}: in ND4J 1.0.0-M2.1 every call leaks native
 * memory (found when a 2 x 256 char-LM was killed for memory at 24 GB after about 350 steps). Minimal reproduction:
 * the op alone, called 40 times on width 128, T 50, batch 16, grows the process's native memory (resident size minus
 * the committed Java heap) by about 4 MB per call; the forward op {@code lstmLayer} on the same arrays does not, and
 * neither does a NativeLSTM training step (within the noise of resident memory). If a future ND4J fixes the op, the first test fails: then the backward
 * op can be measured again against {@link LstmBackward}.
 *
 * <p>Where the memory goes ({@link #lstmLayerBp_memoryIsLostInCpp_notHeldFromJava}): every output is preallocated, so
 * a call creates no array on the Java side, and {@code System.gc()} runs before each reading, so every buffer that
 * Java no longer references (ND4J's and JavaCPP's) has been freed. Still the resident memory (less the committed
 * heap) grows by ~3-4 MB per call, while JavaCPP's {@link Pointer#totalBytes()} stays flat: the memory is allocated
 * inside the op's C++ code and never freed, not held by Java objects. No setting on the Java side can reclaim it.
 */
class LstmLayerBpLeakTest {

    private static final int H = 128;
    private static final int B = 16;
    private static final int T = 50;
    private static final int I = 20;

    /** Resident memory minus the committed Java heap, in MB. */
    private static double nativeMb() throws IOException {
        long rssKb = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rssKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return rssKb / 1024.0 - Runtime.getRuntime().totalMemory() / 1048576.0;
    }

    private static DynamicCustomOp op(String name, INDArray[] in, INDArray[] out) {
        return DynamicCustomOp.builder(name).addInputs(in).addOutputs(out).addIntegerArguments(2, 0, 2, 0, 0)
                .addFloatingPointArguments(0.0).addBooleanArguments(true, false, false, false, false, true, false, false)
                .build();
    }

    /** The op's inputs and preallocated outputs (random, seeded). */
    private record OpArrays(INDArray x, INDArray wx, INDArray wr, INDArray b, INDArray eps, INDArray[] grads) {
        static OpArrays random(long seed) {
            Nd4j.getRandom().setSeed(seed);
            return new OpArrays(Nd4j.rand(DataType.FLOAT, B, I, T), Nd4j.rand(DataType.FLOAT, I, 4 * H).muli(0.05),
                    Nd4j.rand(DataType.FLOAT, H, 4 * H).muli(0.05), Nd4j.zeros(DataType.FLOAT, 4 * H),
                    Nd4j.rand(DataType.FLOAT, B, H, T), new INDArray[] {Nd4j.create(DataType.FLOAT, B, I, T),
                            Nd4j.create(DataType.FLOAT, I, 4 * H), Nd4j.create(DataType.FLOAT, H, 4 * H),
                            Nd4j.create(DataType.FLOAT, 4 * H)});
        }

        /** One lstmLayer_bp call into the preallocated gradients. */
        void backward() {
            Nd4j.exec(op("lstmLayer_bp", new INDArray[] {x, wx, wr, b, eps}, grads));
        }
    }

    private static double growthPerCall(Runnable call, int warmUp, int calls) throws IOException {
        for (int i = 0; i < warmUp; i++) {
            call.run();
        }
        double before = nativeMb();
        for (int i = 0; i < calls; i++) {
            call.run();
        }
        double perCall = (nativeMb() - before) / calls;
        return perCall;
    }

    @Test
    void libnd4jLstmLayerBp_leaksNativeMemoryOnEveryCall_theForwardOpDoesNot() throws IOException {
        OpArrays a = OpArrays.random(1);
        INDArray out = Nd4j.create(DataType.FLOAT, B, H, T);
        double forward = growthPerCall(() -> Nd4j.exec(op("lstmLayer", new INDArray[] {a.x, a.wx, a.wr, a.b},
                new INDArray[] {out})), 10, 40);
        double backward = growthPerCall(a::backward, 10, 40);

        // 1 MB, not the ~4 MB seen alone: in the module's full run, pages freed by earlier tests can absorb part of
        // the leaked allocations without the resident size growing (seen: 1.95 MB per call there)
        assertThat(backward).as("MB leaked per lstmLayer_bp call (seen: 3.96 alone, 1.95 in the full run)")
                .isGreaterThan(1.0);
        // Relative, not absolute: in the module's full run the resident size also moves with what earlier tests left
        // (seen: 0.30 MB per forward call on 2026-12-05, next to >= 1.95 for the backward op; 0.01 alone)
        assertThat(forward).as("MB per lstmLayer call (seen: 0.01 alone, 0.30 in the full run) against the "
                + "backward op's " + backward).isLessThan(backward / 4);
    }

    @Test
    void lstmLayerBp_memoryIsLostInCpp_notHeldFromJava() {
        Runnable call = OpArrays.random(2)::backward;
        for (int i = 0; i < 10; i++) {
            call.run();
        }
        long[] before = afterGc();
        int calls = 40;
        for (int i = 0; i < calls; i++) {
            call.run();
        }
        long[] after = afterGc();
        double physicalMb = ((after[0] - before[0]) - (after[2] - before[2])) / 1048576.0 / calls;
        double javaHeldMb = (after[1] - before[1]) / 1048576.0 / calls;
        System.out.printf("lstmLayer_bp per call: physicalBytes minus the committed heap %+.3f MB, JavaCPP totalBytes"
                + " %+.4f MB%n", physicalMb, javaHeldMb);
        assertThat(physicalMb).as("resident MB per call (seen: %.2f; threshold as in the first test)", physicalMb)
                .isGreaterThan(1.0);
        assertThat(Math.abs(javaHeldMb)).as("MB per call held through JavaCPP pointers (seen: %.4f)", javaHeldMb)
                .isLessThan(0.05);
    }

    /**
     * {physicalBytes, totalBytes, committed heap} after a full collection (and JavaCPP's deallocation of what it
     * released); the heap is subtracted from the resident size, since a collection may shrink it by hundreds of MB.
     */
    private static long[] afterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new long[] {Pointer.physicalBytes(), Pointer.totalBytes(), Runtime.getRuntime().totalMemory()};
    }

    @Test
    void nativeLstmTrainingStep_doesNotLeak() throws IOException {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.FLOAT).updater(new Adam(1e-3)).list()
                .layer(new NativeLSTM.Builder().nIn(I).nOut(H).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MSE).activation(Activation.IDENTITY).nIn(H).nOut(3)
                        .build())
                .build());
        net.init();
        DataSet batch = new DataSet(Nd4j.rand(DataType.FLOAT, B, I, T), Nd4j.rand(DataType.FLOAT, B, 3, T));
        // Resident memory moves by up to about 1.3 MB per step over 150 steps for reasons of its own (DL4J's LSTM
        // measured the same way: +1.27 then -0.47 MB per step in two windows of 150 steps), so the bound is half
        // of what lstmLayer_bp alone leaks on these shapes (3.96 MB per call).
        assertThat(growthPerCall(() -> net.fit(batch), 150, 100)).as("MB per training step").isLessThan(2.0);
    }
}
