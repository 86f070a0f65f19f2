package org.dl4jclipping.benchmarks;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One training step of our GRU ({@code org.dl4jclipping.rnn.conf.GRU}) against DL4J's LSTM of equal width and
 * length: 2 recurrent layers of 256 units, vocabulary 65, RnnOutputLayer 65, batch 32, 64 time steps, float,
 * Adam(1e-3), no clipping. A GRU has 3 gate blocks where an LSTM has 4 (0.67M against 0.87M parameters).
 *
 * <p>Run: {@code java -jar dl4j-clipping-benchmarks/target/benchmarks.jar GruVsLstmBenchmark}
 */
public class GruVsLstmBenchmark extends Harness.Step {

    /** The network and minibatch of one method. */
    public abstract static class Net {
        MultiLayerNetwork net;
        DataSet batch;

        void build(boolean gru) {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            net = new MultiLayerNetwork(Fixtures.charRnn(gru, Fixtures.adam()));
            net.init();
            batch = Fixtures.charBatch();
        }
    }

    @State(Scope.Thread)
    public static class Gru extends Net {
        @Setup(Level.Trial)
        public void setUp() {
            build(true);
        }
    }

    @State(Scope.Thread)
    public static class Lstm extends Net {
        @Setup(Level.Trial)
        public void setUp() {
            build(false);
        }
    }

    @Benchmark
    public MultiLayerNetwork gru(Gru s) {
        s.net.fit(s.batch);
        return s.net;
    }

    @Benchmark
    public MultiLayerNetwork lstm(Lstm s) {
        s.net.fit(s.batch);
        return s.net;
    }
}
