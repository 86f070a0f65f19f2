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
 * Calls of libnd4j's whole-sequence LSTM op ({@code lstmLayer}, ND4J 1.0.0-M2.1), and the mapping between DL4J's
 * gate order and the op's. (Its backward op {@code lstmLayer_bp} is not used: it leaks native memory on every call,
 * see {@link LstmBackward}.)
 *
 * <p>The op's inputs are {@code x, Wx, Wr, b, [seqLen], [hI], [cI]}, with
 * integer arguments {@code dataFormat, directionMode, gateAct, cellAct, outAct}, the cell clip as the only float
 * argument and the booleans {@code hasBias, hasSeqLen, hasInitH, hasInitC, hasPeephole, retFullSequence, retLastH,
 * retLastC}. Its gate blocks are ordered i, f, g, o; DL4J's are g, f, o, i: op block {@code k} is DL4J block
 * {@code DL4J_BLOCK_OF_OP[k]}. Data formats: 2 = [minibatch, size, time] (DL4J NCW), 1 = [minibatch, time, size]
 * (NWC), 0 = [time, minibatch, size].
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
        return new OpWeights(reorder(w, ws, mgr), reorder(rw, ws, mgr),
                reorder(b.reshape(1, b.length()), ws, mgr).reshape(b.length()));
    }

    private static INDArray reorder(INDArray dl4j, ArrayType ws, LayerWorkspaceMgr mgr) {
        INDArray out = mgr.createUninitialized(ws, dl4j.dataType(), dl4j.shape(), 'c');
        long n = dl4j.size(1) / 4;
        for (int k = 0; k < 4; k++) {
            int d = DL4J_BLOCK_OF_OP[k];
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(k * n, (k + 1) * n))
                    .assign(dl4j.get(NDArrayIndex.all(), NDArrayIndex.interval(d * n, (d + 1) * n)));
        }
        return out;
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
        op.addInputs(inputs(x, w, seqLen, h0, c0));
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

    private static INDArray[] inputs(INDArray x, OpWeights w, INDArray seqLen, INDArray h0, INDArray c0) {
        int count = 4 + (seqLen != null ? 1 : 0) + (h0 != null ? 2 : 0);
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
            in[k] = c0;
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
