package org.dl4jclipping.rnn.layers;

import static org.assertj.core.api.Assertions.assertThat;

import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The CPU kernels ({@link LstmCpuKernel}, {@link GruCpuKernel}) against the layers' previous implementation, the
 * ND4J op path (libnd4j's {@code lstmLayer} + {@link LstmBackward}; {@link GRUKernel}), which the layers still run
 * on GPU backends and which {@code -Dorg.dl4jclipping.rnn.cpuKernel=false} selects on the CPU. For an LSTM of width
 * 1, where libnd4j's {@code lstmLayer} fails (so the op path never ran such a layer), DL4J's own {@code LSTM} (same
 * equations and parameter layout) is the reference.
 *
 * <p>240 random cases (seed 20261204): LSTM or GRU (for the GRU either variant, {@code resetAfter} true or false);
 * two recurrent layers (so the input gradient of the second reaches the first's parameters) then an RnnOutputLayer;
 * width 1-9, batch 1-4, T 1-7, nIn 1-5 (width 1, batch 1 and T 1 each forced in some cases); float or double; NCW
 * or NWC; tanh/sigmoid or other activations (LSTM: softsign, softplus, sigmoid; GRU: activation one of tanh,
 * sigmoid, hard sigmoid (DL4J's), {@link ActivationHardSigmoid6}, relu, identity, softsign, softplus, gate one of
 * sigmoid, tanh, hard sigmoid, ActivationHardSigmoid6); a mask (right-padded for the LSTM, any 0/1
 * pattern for the GRU) or none; standard or truncated BPTT (forward length 2-4; DL4J's MultiLayerNetwork back-propagates whole
 * segments, so the shorter backward length is covered by {@code GruStatefulAndTbpttTest} and
 * {@code NativeLstmMatchesDl4jLstmTest}, which call {@code tbpttBackpropGradient} themselves). Checked: the
 * output of {@code output()}, the score (labels at every step, masked steps too) and every gradient of {@code computeGradientAndScore()}, the parameters
 * after one SGD {@code fit} (with TBPTT: every segment and the state carried between them), and two
 * {@code rnnTimeStep} calls in a row (the stored state). Tolerance: 1e-5 relative to max(1, |value|) in float
 * (both sides round differently: ours rounds double arithmetic once, the op path rounds every float op), 1e-12 in
 * double (1e-7 with DL4J's hard sigmoid, which ND4J evaluates with float constants). The worst differences are
 * printed per data type (and for the reset-before GRU cases alone).
 */
class CpuKernelMatchesOpPathTest {

    private static final int CASES = 240;

    @AfterEach
    void restore() {
        System.clearProperty(RecurrentCpuKernel.PROPERTY);
    }

    @Test
    void randomCasesMatchTheOpPath() {
        Random r = new Random(20261204);
        List<String> failures = new ArrayList<>();
        double worstFloat = 0;
        double worstDouble = 0;
        double worstFloatResetBefore = 0;
        double worstDoubleResetBefore = 0;
        int resetBeforeCases = 0;
        double worstDoubleHardSigmoid = 0;
        for (int c = 0; c < CASES; c++) {
            Case k = Case.random(r, c);
            double diff;
            if (System.getProperty("debugCases") != null) {
                System.out.println("case " + k);
                System.out.flush();
            }
            try {
                diff = k.maxDifference();
            } catch (RuntimeException e) {
                failures.add(k + ": " + e.getMessage() + (e.getCause() == null ? "" : " / " + e.getCause().getMessage()));
                continue;
            }
            boolean hardSigmoid = k.act.equals(Activation.HARDSIGMOID.getActivationFunction())
                    || k.gate.equals(Activation.HARDSIGMOID.getActivationFunction());
            if (k.type == DataType.FLOAT) {
                worstFloat = Math.max(worstFloat, diff);
            } else if (!hardSigmoid) {
                worstDouble = Math.max(worstDouble, diff);
            } else {
                worstDoubleHardSigmoid = Math.max(worstDoubleHardSigmoid, diff);
            }
            if (k.gru && !k.resetAfter) {
                resetBeforeCases++;
                if (k.type == DataType.FLOAT) {
                    worstFloatResetBefore = Math.max(worstFloatResetBefore, diff);
                } else if (!hardSigmoid) {
                    worstDoubleResetBefore = Math.max(worstDoubleResetBefore, diff);
                }
            }
            if (!(diff <= k.tolerance())) {      // NaN fails too
                failures.add(k + ": " + diff + stages);
            }
        }
        System.out.printf("CpuKernelMatchesOpPathTest: %d cases, worst difference float %.3g, double %.3g (with DL4J's"
                + " hard sigmoid %.3g); reset-before GRU (%d cases) float %.3g, double %.3g%n", CASES, worstFloat,
                worstDouble, worstDoubleHardSigmoid, resetBeforeCases, worstFloatResetBefore, worstDoubleResetBefore);
        failures.forEach(System.out::println);
        assertThat(failures).isEmpty();
    }

    private static final StringBuilder stages = new StringBuilder();

    /** One random configuration. */
    record Case(int index, boolean gru, boolean resetAfter, int width, int mb, int steps, int nIn, DataType type,
                RNNFormat format, IActivation act, IActivation gate, int maskKind, int tbpttFwd, int tbpttBack,
                long seed) {

        static Case random(Random r, int index) {
            boolean gru = r.nextBoolean();
            boolean resetAfter = !gru || r.nextBoolean();
            int width = index % 20 == 0 ? 1 : 1 + r.nextInt(9);
            int mb = index % 20 == 1 ? 1 : 1 + r.nextInt(4);
            int steps = index % 20 == 2 ? 1 : 1 + r.nextInt(7);
            int nIn = 1 + r.nextInt(5);
            DataType type = r.nextBoolean() ? DataType.FLOAT : DataType.DOUBLE;
            RNNFormat format = r.nextInt(3) == 0 ? RNNFormat.NWC : RNNFormat.NCW;
            IActivation act = Activation.TANH.getActivationFunction();
            IActivation gate = Activation.SIGMOID.getActivationFunction();
            if (r.nextInt(gru ? 2 : 3) == 0) {
                IActivation[] acts = gru
                        ? new IActivation[] {act, gate, Activation.HARDSIGMOID.getActivationFunction(),
                            new ActivationHardSigmoid6(), Activation.RELU.getActivationFunction(),
                            Activation.IDENTITY.getActivationFunction(), Activation.SOFTSIGN.getActivationFunction(),
                            Activation.SOFTPLUS.getActivationFunction()}
                        : new IActivation[] {Activation.SOFTSIGN.getActivationFunction(),
                            Activation.SOFTPLUS.getActivationFunction(), Activation.SIGMOID.getActivationFunction()};
                // Gates stay bounded: a relu or identity gate makes the recurrence quadratic in h, and with random
                // weights two layers of seven steps overflow (GruMatchesKerasEquationsTest covers those gates).
                IActivation[] gates = gru
                        ? new IActivation[] {gate, act, Activation.HARDSIGMOID.getActivationFunction(),
                            new ActivationHardSigmoid6()}
                        : new IActivation[] {Activation.SIGMOID.getActivationFunction(),
                            Activation.SOFTSIGN.getActivationFunction()};
                act = acts[r.nextInt(acts.length)];
                gate = gates[r.nextInt(gates.length)];
            }
            int maskKind = r.nextInt(3);                // 0 none, 1 right-padded, 2 any pattern (GRU only)
            if (!gru && maskKind == 2) {
                maskKind = 1;
            }
            int fwd = 0;
            int back = 0;
            // DL4J's truncated BPTT cuts NCW sequences only; DL4J's LSTM (the width-1 reference) differs under masks
            boolean tbpttAllowed = format == RNNFormat.NCW && (gru || width > 1 || maskKind == 0);
            if (tbpttAllowed && steps > 2 && r.nextInt(3) == 0) {
                fwd = 2 + r.nextInt(Math.min(3, steps - 1));
                back = 1 + r.nextInt(fwd);
            }
            return new Case(index, gru, resetAfter, width, mb, steps, nIn, type, format, act, gate, maskKind, fwd,
                    back, r.nextLong());
        }

        /**
         * 1e-5 in float (measured 2.9e-6); 1e-12 in double (measured 3.7e-15), 1e-7 with DL4J's hard sigmoid (ND4J
         * computes 0.2x + 0.5 with float constants, about 1e-9 from the double-precision value).
         */
        double tolerance() {
            IActivation hard = Activation.HARDSIGMOID.getActivationFunction();
            return type == DataType.FLOAT ? 1e-5 : gate.equals(hard) || act.equals(hard) ? 1e-7 : 1e-12;
        }

        /** libnd4j's lstmLayer fails for width 1 ("B array has wrong number of rows"): there DL4J's LSTM is the reference. */
        boolean dl4jReference() {
            return !gru && width == 1;
        }

        Layer recurrent(int in, boolean reference) {
            if (reference && dl4jReference()) {
                return new LSTM.Builder().nIn(in).nOut(width).activation(act).gateActivationFunction(gate)
                        .dataFormat(format).build();
            }
            if (gru) {
                return new GRU.Builder().nIn(in).nOut(width).resetAfter(resetAfter).activation(act)
                        .gateActivationFunction(gate).dataFormat(format).build();
            }
            return new NativeLSTM.Builder().nIn(in).nOut(width).activation(act).gateActivationFunction(gate)
                    .dataFormat(format).build();
        }

        MultiLayerNetwork network(boolean cpu) {
            System.setProperty(RecurrentCpuKernel.PROPERTY, Boolean.toString(cpu));
            NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
                    .updater(new Sgd(0.1)).weightInit(WeightInit.XAVIER).list()
                    .layer(recurrent(nIn, !cpu)).layer(recurrent(width, !cpu))
                    .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nIn(width)
                            .nOut(3).dataFormat(format).build());
            if (tbpttFwd > 0) {
                b.backpropType(BackpropType.TruncatedBPTT).tBPTTForwardLength(tbpttFwd).tBPTTBackwardLength(tbpttBack);
            }
            MultiLayerNetwork net = new MultiLayerNetwork(b.build());
            net.init();
            return net;
        }

        double maxDifference() {
            Random r = new Random(seed);
            INDArray x = sequence(r, nIn);
            INDArray y = Nd4j.zeros(type, format == RNNFormat.NCW ? new long[] {mb, 3, steps} : new long[] {mb, steps, 3});
            for (int e = 0; e < mb; e++) {
                for (int t = 0; t < steps; t++) {
                    int k = r.nextInt(3);
                    y.putScalar(format == RNNFormat.NCW ? new int[] {e, k, t} : new int[] {e, t, k}, 1.0);
                }
            }
            INDArray mask = mask(r);
            MultiLayerNetwork ops = network(false);
            MultiLayerNetwork cpu = network(true);
            cpu.setParams(ops.params().dup());
            if (gru && !(((GRULayer) cpu.getLayer(0)).usesCpuKernel() && !((GRULayer) ops.getLayer(0)).usesCpuKernel())) {
                throw new IllegalStateException("the GRU layers do not run the intended paths (CPU kernel vs ops)");
            }
            double worst = 0;
            worst = Math.max(worst, diff(ops.output(x, false, mask, null), cpu.output(x, false, mask, null)));
            stages.setLength(0);
            stages.append(" output ").append(worst);
            if (tbpttFwd == 0) {
                for (MultiLayerNetwork n : new MultiLayerNetwork[] {ops, cpu}) {
                    n.setInput(x);
                    n.setLabels(y);
                    n.setLayerMaskArrays(mask, null);
                    n.computeGradientAndScore();
                }
                worst = Math.max(worst, Math.abs(ops.score() - cpu.score()));
                worst = Math.max(worst, diff(ops.gradient().gradient(), cpu.gradient().gradient()));
                stages.append(" gradient ").append(worst);
            }
            DataSet ds = new DataSet(x, y, mask, null);
            ops.fit(ds);
            cpu.fit(ds);
            worst = Math.max(worst, diff(ops.params(), cpu.params()));
            stages.append(" fit ").append(worst);
            if (mask == null) {
                ops.rnnClearPreviousState();
                cpu.rnnClearPreviousState();
                for (int call = 0; call < 2; call++) {
                    INDArray a = ops.rnnTimeStep(x).dup();   // dup: the next network's call reuses workspace memory
                    INDArray b = cpu.rnnTimeStep(x).dup();
                    worst = Math.max(worst, diff(a, b));
                }
                stages.append(" steps ").append(worst);
            }
            return worst;
        }

        private INDArray sequence(Random r, int size) {
            INDArray x = Nd4j.create(type, format == RNNFormat.NCW ? new long[] {mb, size, steps}
                    : new long[] {mb, steps, size});
            for (long i = 0; i < x.length(); i++) {
                x.putScalar(i, r.nextGaussian());
            }
            return x;
        }

        private INDArray mask(Random r) {
            if (maskKind == 0) {
                return null;
            }
            INDArray m = Nd4j.zeros(type, mb, steps);
            for (int e = 0; e < mb; e++) {
                int len = r.nextInt(steps + 1);
                for (int t = 0; t < steps; t++) {
                    boolean on = maskKind == 1 ? t < len : r.nextBoolean();
                    m.putScalar(e, t, on ? 1.0 : 0.0);
                }
            }
            return m;
        }

        /** max |a − b| / max(1, |a|), computed on copies (castTo returns the array itself when it is double). */
        private static double diff(INDArray a, INDArray b) {
            INDArray x = a.castTo(DataType.DOUBLE).dup();
            INDArray d = x.sub(b.castTo(DataType.DOUBLE));
            double worst = 0;
            for (long i = 0; i < x.length(); i++) {
                worst = Math.max(worst, Math.abs(d.getDouble(i)) / Math.max(1.0, Math.abs(x.getDouble(i))));
            }
            return worst;
        }
    }
}
