package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMActivations;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Calls of libnd4j's whole-sequence LSTM ops ({@code lstmLayer}, {@code lstmLayer_bp}, ND4J 1.0.0-M2.1), and the
 * mapping between DL4J's gate order and the op's.
 *
 * <p>The op's inputs are {@code x, Wx, Wr, b, [seqLen], [hI], [cI]} (then {@code dLdh} for the backward op), with
 * integer arguments {@code dataFormat, directionMode, gateAct, cellAct, outAct}, the cell clip as the only float
 * argument and the booleans {@code hasBias, hasSeqLen, hasInitH, hasInitC, hasPeephole, retFullSequence, retLastH,
 * retLastC}. Its gate blocks are ordered i, f, g, o; DL4J's are g, f, o, i: op block {@code k} is DL4J block
 * {@code DL4J_BLOCK_OF_OP[k]}. Data formats: 2 = [minibatch, size, time] (DL4J NCW), 1 = [minibatch, time, size]
 * (NWC). The backward op recomputes the forward pass itself; its outputs are {@code dLdx, dLdWx, dLdWr, dLdb,
 * [dLdSeqLen], [dLdhI], [dLdcI]}.
 */
final class LstmOps {

    /** DL4J block (g=0, f=1, o=2, i=3) in each position of the op's order (i, f, g, o). */
    private static final int[] DL4J_BLOCK_OF_OP = {3, 1, 0, 2};

    private LstmOps() {
    }

    /** The op's arguments that do not change between calls of one layer. */
    record Config(int dataFormat, LSTMActivations gate, LSTMActivations activation) {
    }

    /** The weights in the op's gate order: Wx [nIn, 4n], Wr [n, 4n], b [4n], all 'c'. */
    record OpWeights(INDArray wx, INDArray wr, INDArray b) {
    }

    /** Copies DL4J-ordered W [nIn, 4n], RW [n, 4n], b [4n] into the op's order, in working memory. */
    static OpWeights toOpOrder(INDArray w, INDArray rw, INDArray b, ArrayType ws, LayerWorkspaceMgr mgr) {
        return new OpWeights(reorder(w, ws, mgr, true), reorder(rw, ws, mgr, true),
                reorder(b.reshape(1, b.length()), ws, mgr, true).reshape(b.length()));
    }

    /** Writes op-ordered gradients into DL4J-ordered gradient views. */
    static void toDl4jOrder(OpWeights opOrdered, INDArray dW, INDArray dRW, INDArray db) {
        copyBlocks(opOrdered.wx(), dW, false);
        copyBlocks(opOrdered.wr(), dRW, false);
        copyBlocks(opOrdered.b().reshape(1, db.length()), db.reshape(1, db.length()), false);
    }

    private static INDArray reorder(INDArray dl4j, ArrayType ws, LayerWorkspaceMgr mgr, boolean toOp) {
        INDArray out = mgr.createUninitialized(ws, dl4j.dataType(), dl4j.shape(), 'c');
        copyBlocks(dl4j, out, toOp);
        return out;
    }

    private static void copyBlocks(INDArray from, INDArray to, boolean toOp) {
        long n = from.size(1) / 4;
        for (int k = 0; k < 4; k++) {
            int d = DL4J_BLOCK_OF_OP[k];
            int src = toOp ? d : k;
            int dst = toOp ? k : d;
            to.get(NDArrayIndex.all(), NDArrayIndex.interval(dst * n, (dst + 1) * n))
                    .assign(from.get(NDArrayIndex.all(), NDArrayIndex.interval(src * n, (src + 1) * n)));
        }
    }

    /**
     * Forward pass over the whole sequence.
     *
     * @param x      input in the configured format, 'c' order
     * @param seqLen per-example lengths [mb], or null for full sequences
     * @param h0     initial hidden state [mb, n], or null for zeros (then {@code c0} must be null too)
     * @param out    output [mb, n, T] or [mb, T, n], written in place, or null when only the last state is wanted
     * @param hLast  receives the last hidden state [mb, n], or null
     * @param cLast  receives the last cell state [mb, n], or null
     */
    static void forward(Config cfg, INDArray x, OpWeights w, INDArray seqLen, INDArray h0, INDArray c0,
                        INDArray out, INDArray hLast, INDArray cLast) {
        DynamicCustomOp.DynamicCustomOpsBuilder op = DynamicCustomOp.builder("lstmLayer");
        op.addInputs(inputs(x, w, seqLen, h0, c0, null));
        java.util.List<INDArray> outputs = new java.util.ArrayList<>(3);
        for (INDArray o : new INDArray[] {out, hLast, cLast}) {
            if (o != null) {
                outputs.add(o);
            }
        }
        op.addOutputs(outputs.toArray(new INDArray[0]));
        arguments(op, cfg, seqLen, h0, c0, out != null, hLast != null, cLast != null);
        Nd4j.exec(op.build());
    }

    /**
     * Backward pass over the whole sequence for the error {@code dLdh} on every output; writes the input error and
     * the op-ordered parameter gradients. Gradients into the initial state are computed by the op and discarded
     * (truncated BPTT does not carry them into earlier segments, as DL4J's LSTM).
     */
    static void backward(Config cfg, INDArray x, OpWeights w, INDArray seqLen, INDArray h0, INDArray c0,
                         INDArray dLdh, INDArray dLdx, OpWeights grads, ArrayType ws, LayerWorkspaceMgr mgr) {
        DynamicCustomOp.DynamicCustomOpsBuilder op = DynamicCustomOp.builder("lstmLayer_bp");
        op.addInputs(inputs(x, w, seqLen, h0, c0, dLdh));
        DataType dt = x.dataType();
        int count = 4 + (seqLen != null ? 1 : 0) + (h0 != null ? 2 : 0);
        INDArray[] outputs = new INDArray[count];
        outputs[0] = dLdx;
        outputs[1] = grads.wx();
        outputs[2] = grads.wr();
        outputs[3] = grads.b();
        int k = 4;
        if (seqLen != null) {
            outputs[k++] = mgr.create(ws, dt, seqLen.shape());
        }
        if (h0 != null) {
            outputs[k++] = mgr.create(ws, dt, h0.shape());
            outputs[k] = mgr.create(ws, dt, c0.shape());
        }
        op.addOutputs(outputs);
        arguments(op, cfg, seqLen, h0, c0, true, false, false);
        Nd4j.exec(op.build());
    }

    private static INDArray[] inputs(INDArray x, OpWeights w, INDArray seqLen, INDArray h0, INDArray c0,
                                     INDArray dLdh) {
        int count = 4 + (seqLen != null ? 1 : 0) + (h0 != null ? 2 : 0) + (dLdh != null ? 1 : 0);
        INDArray[] in = new INDArray[count];
        in[0] = x;
        in[1] = w.wx();
        in[2] = w.wr();
        in[3] = w.b();
        int k = 4;
        if (seqLen != null) {
            in[k++] = seqLen;
        }
        if (h0 != null) {
            in[k++] = h0;
            in[k++] = c0;
        }
        if (dLdh != null) {
            in[k] = dLdh;
        }
        return in;
    }

    private static void arguments(DynamicCustomOp.DynamicCustomOpsBuilder op, Config cfg, INDArray seqLen,
                                  INDArray h0, INDArray c0, boolean fullSequence, boolean lastH, boolean lastC) {
        op.addIntegerArguments(cfg.dataFormat(), 0, cfg.gate().ordinal(), cfg.activation().ordinal(),
                cfg.activation().ordinal());
        op.addFloatingPointArguments(0.0);
        op.addBooleanArguments(true, seqLen != null, h0 != null, c0 != null, false, fullSequence, lastH, lastC);
    }
}
