package org.dl4jclipping.rnn.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The working memory of one recurrent layer's CPU kernel: a fixed set of host arrays, outside every DL4J
 * workspace, allocated when a pass needs more than they hold (a larger shape, or the other data type) and reused as
 * they are otherwise. A training step therefore allocates nothing once the layer has seen its largest shape; the
 * arrays live as long as the layer and hold what the backward pass needs from the forward pass.
 */
final class KernelMemory {

    private final INDArray[] arrays;
    private final HostArray[] host;

    KernelMemory(int slots) {
        arrays = new INDArray[slots];
        host = new HostArray[slots];
    }

    /** Slot {@code slot} with room for at least {@code length} elements of {@code type}. */
    HostArray get(int slot, DataType type, long length) {
        INDArray a = arrays[slot];
        if (a == null || a.dataType() != type || a.length() < length) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                a = Nd4j.createUninitialized(type, Math.max(1, length));
            }
            arrays[slot] = a;
            host[slot] = HostArray.of(a);
        }
        return host[slot];
    }

    /** The elements of {@code memory} from {@code offset} on, as a 'c'-order view of {@code shape}. */
    static INDArray view(HostArray memory, long offset, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        INDArray flat = memory.array;
        INDArray part = offset == 0 && flat.length() == n ? flat : flat.get(NDArrayIndex.interval(offset, offset + n));
        return part.reshape('c', shape);
    }
}
