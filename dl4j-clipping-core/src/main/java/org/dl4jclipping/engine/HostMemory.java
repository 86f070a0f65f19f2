package org.dl4jclipping.engine;

import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one door through which the engine's Java loops touch array memory, correct under every ND4J backend.
 *
 * <p>Under {@code nd4j-native} an array's memory is host memory and both calls are no-ops. Under {@code nd4j-cuda}
 * the current values may live on the GPU: {@link #beforeRead} brings them to the host copy the loop reads
 * ({@code AffinityManager.ensureLocation(HOST)}), and {@link #afterWrite} marks the host copy as the newest, so
 * that ND4J copies it to the device before the next native op ({@code tagLocation(HOST)}). BLAS and libnd4j ops
 * (nrm2, scal, scalar min/max) synchronise themselves and need neither.
 */
final class HostMemory {

    /** What a backend does around host access; replaced in tests to check that every loop goes through it. */
    interface Sync {
        void toHost(INDArray a);

        void hostWritten(INDArray a);
    }

    static final Sync AFFINITY = new Sync() {
        @Override
        public void toHost(INDArray a) {
            Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
        }

        @Override
        public void hostWritten(INDArray a) {
            Nd4j.getAffinityManager().tagLocation(a, AffinityManager.Location.HOST);
        }
    };

    static volatile Sync sync = AFFINITY;

    private HostMemory() {
    }

    /** Call before a Java loop reads {@code a}'s memory. */
    static void beforeRead(INDArray a) {
        sync.toHost(a);
    }

    /** Call after a Java loop wrote {@code a}'s memory. */
    static void afterWrite(INDArray a) {
        sync.hostWritten(a);
    }
}
