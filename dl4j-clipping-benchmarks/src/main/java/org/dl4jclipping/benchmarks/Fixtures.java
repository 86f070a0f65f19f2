package org.dl4jclipping.benchmarks;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Data and networks shared by the benchmarks. */
final class Fixtures {

    /** Total gradient elements of the synthetic layouts. */
    static final long TEN_MILLION = 10_000_000L;

    /** Char-LSTM sizes: vocabulary, hidden width, minibatch, sequence length. */
    static final int VOCAB = 65;
    static final int HIDDEN = 256;
    static final int BATCH = 32;
    static final int LENGTH = 64;

    private Fixtures() {
    }

    /**
     * Shapes of the parameter arrays of a layout: {@code "100"} (100 x 1e5), {@code "1"} (1 x 1e7), or
     * {@code "charLstm"} (the 0.87M parameters of 2 x LSTM 256 with vocabulary 65 and an RnnOutputLayer 65, in
     * DL4J's order).
     */
    static long[][] shapes(String layout) {
        switch (layout) {
            case "100": {
                long[][] s = new long[100][];
                for (int i = 0; i < s.length; i++) {
                    s[i] = new long[] {100, 1000};
                }
                return s;
            }
            case "1":
                return new long[][] {{1000, 10_000}};
            case "charLstm":
                return new long[][] {
                    {VOCAB, 4 * HIDDEN}, {HIDDEN, 4 * HIDDEN}, {1, 4 * HIDDEN},
                    {HIDDEN, 4 * HIDDEN}, {HIDDEN, 4 * HIDDEN}, {1, 4 * HIDDEN},
                    {HIDDEN, VOCAB}, {1, VOCAB}};
            default:
                throw new IllegalArgumentException("unknown layout " + layout);
        }
    }

    /**
     * Views of consecutive segments of {@code flat}, in 'f' order like DL4J's parameter and gradient views: the
     * arrays of a layout lie contiguous and adjacent in one buffer, as a network's gradients do.
     */
    static List<INDArray> views(INDArray flat, long[][] shapes) {
        List<INDArray> views = new ArrayList<>();
        long offset = 0;
        for (long[] shape : shapes) {
            long n = shape[0] * shape[1];
            INDArray v = flat.get(NDArrayIndex.interval(offset, offset + n)).reshape('f', shape);
            float saved = flat.getFloat(offset + n - 1);
            v.putScalar(new long[] {shape[0] - 1, shape[1] - 1}, 12345f);
            if (flat.getFloat(offset + n - 1) != 12345f || v.elementWiseStride() != 1) {
                throw new IllegalStateException("not a contiguous view of the flat buffer: " + v.shapeInfoToString());
            }
            flat.putScalar(offset + n - 1, saved);
            views.add(v);
            offset += n;
        }
        if (offset != flat.length()) {
            throw new IllegalStateException("views cover " + offset + " of " + flat.length());
        }
        return views;
    }

    /** Number of elements of a layout. */
    static long length(long[][] shapes) {
        long n = 0;
        for (long[] s : shapes) {
            n += s[0] * s[1];
        }
        return n;
    }

    /** A float vector of N(0, 1) values, fixed seed. */
    static INDArray gaussian(long n) {
        Nd4j.getRandom().setSeed(42);
        return Nd4j.randn(DataType.FLOAT, n);
    }

    /**
     * Copies {@code src} over {@code dst} with one {@code memcpy} (both contiguous float buffers of equal length):
     * restores a benchmark's input between calls without an ND4J op, so that it allocates nothing on the heap
     * (it runs in a per-invocation setup, which {@code -prof gc} would otherwise count).
     */
    static void restore(INDArray dst, INDArray src) {
        Pointer.memcpy(dst.data().addressPointer(), src.data().addressPointer(), src.length() * Float.BYTES);
    }

    /**
     * The char-level recurrent network of the training-step benchmarks: two recurrent layers of {@link #HIDDEN} units
     * of {@code cell} ({@code dl4j_lstm}, {@code native_lstm} (NativeLSTM) or {@code gru}), one-hot input of
     * {@link #VOCAB} characters, softmax output.
     */
    static MultiLayerConfiguration charRnn(String cell, IUpdater updater) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .dataType(DataType.FLOAT)
                .updater(updater)
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(recurrent(cell, VOCAB))
                .layer(recurrent(cell, HIDDEN))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(HIDDEN).nOut(VOCAB)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    private static BaseRecurrentLayer recurrent(String cell, int nIn) {
        return switch (cell) {
            case "gru" -> new GRU.Builder().nIn(nIn).nOut(HIDDEN).activation(Activation.TANH).build();
            case "native_lstm" -> new NativeLSTM.Builder().nIn(nIn).nOut(HIDDEN).activation(Activation.TANH).build();
            case "dl4j_lstm" -> new LSTM.Builder().nIn(nIn).nOut(HIDDEN).activation(Activation.TANH).build();
            default -> throw new IllegalArgumentException("cell must be gru, native_lstm or dl4j_lstm, got " + cell);
        };
    }

    /** Default updater of the training benchmarks. */
    static IUpdater adam() {
        return new Adam(1e-3);
    }

    /** One minibatch of random one-hot characters, [BATCH, VOCAB, LENGTH], labels the next character. */
    static DataSet charBatch() {
        java.util.Random r = new java.util.Random(42);
        INDArray in = Nd4j.zeros(DataType.FLOAT, BATCH, VOCAB, LENGTH);
        INDArray out = Nd4j.zeros(DataType.FLOAT, BATCH, VOCAB, LENGTH);
        for (int b = 0; b < BATCH; b++) {
            int c = r.nextInt(VOCAB);
            for (int t = 0; t < LENGTH; t++) {
                int next = r.nextInt(VOCAB);
                in.putScalar(new long[] {b, c, t}, 1f);
                out.putScalar(new long[] {b, next, t}, 1f);
                c = next;
            }
        }
        return new DataSet(in, out);
    }
}
