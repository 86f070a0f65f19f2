package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The GRU's output against Keras's {@code GRU} equations written out below in plain double loops, in Keras's own
 * weight layout (gate blocks z, r, h), for both variants ({@code reset_after=True}: bias [2, 3u], the candidate
 * {@code act(x·W_h + b_h + r ⊙ (h·U_h + b_rh))}; {@code reset_after=False}: one bias [3u], the candidate
 * {@code act(x·W_h + b_h + (r ⊙ h)·U_h)}), every pair of the activations a Keras file may name (tanh, sigmoid,
 * hard_sigmoid of Keras 2 = DL4J's HARDSIGMOID, hard_sigmoid of Keras 3 = {@link ActivationHardSigmoid6}, relu,
 * linear) as activation and recurrent activation, float and double, on the CPU kernel and on the op path.
 *
 * <p>The Keras weights are converted to the layer's layout the way an importer must: W, RW and each bias row with
 * the first two column blocks swapped (z, r → r, z); {@code reset_after=True} puts bias row 0 in "b", row 1 in "rb".
 * Inputs and weights: seeded Gaussian (seed 24), input weights and biases times 0.9, recurrent weights times 0.3
 * (pre-activations of the gates reach the clipped parts of both hard sigmoids, which the test checks), all
 * weights a third of that for an unbounded recurrent activation (relu, linear: the gate z multiplies the state,
 * and at full scale the state grows like a square each step, past float's range in six steps); in float the layer
 * and the reference use the same float-rounded values. Tolerance, relative to max(1, |h|): 1e-12 in double (1e-7
 * on the op path with HARDSIGMOID, which ND4J evaluates with the float constants 0.2f and 0.5f, ~1.5e-9 relative;
 * measured 3.2e-8 after six steps),
 * 5e-6 in float (measured: 2.3e-6 on the op path, which rounds each float op, 7.0e-7 on the CPU kernel, which
 * rounds what it stores; six steps).
 */
class GruMatchesKerasEquationsTest {

    private static final Logger LOG = LoggerFactory.getLogger(GruMatchesKerasEquationsTest.class);
    private static final int N_IN = 3;
    private static final int U = 4;
    private static final int MB = 2;
    private static final int T = 6;

    /** A Keras activation: its name, its definition (Keras source), and the DL4J activation an importer uses. */
    record KerasActivation(String name, DoubleUnaryOperator f, IActivation dl4j) {

        /** Whether the function maps into [0, 1] (a gate that cannot amplify the state). */
        boolean bounded() {
            return !name.equals("relu") && !name.equals("linear");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static final List<KerasActivation> ACTIVATIONS = List.of(
            new KerasActivation("tanh", Math::tanh, Activation.TANH.getActivationFunction()),
            new KerasActivation("sigmoid", x -> 1.0 / (1.0 + Math.exp(-x)), Activation.SIGMOID.getActivationFunction()),
            new KerasActivation("hard_sigmoid (Keras 2)", x -> Math.max(0.0, Math.min(1.0, 0.2 * x + 0.5)),
                    Activation.HARDSIGMOID.getActivationFunction()),
            new KerasActivation("hard_sigmoid (Keras 3)", x -> Math.max(0.0, Math.min(6.0, x + 3.0)) / 6.0,
                    new ActivationHardSigmoid6()),
            new KerasActivation("relu", x -> Math.max(0.0, x), Activation.RELU.getActivationFunction()),
            new KerasActivation("linear", x -> x, Activation.IDENTITY.getActivationFunction()));

    private int clipped;
    private int linear;

    @AfterEach
    void restore() {
        System.clearProperty(RecurrentCpuKernel.PROPERTY);
    }

    @Test
    void outputEqualsKerasEquations_bothVariants_everyActivationPair_floatAndDouble_bothPaths() {
        List<String> failures = new ArrayList<>();
        double[] worstFloat = new double[2];     // [cpu kernel, op path]
        double[] worstDouble = new double[2];
        double worstDoubleOpsHardSigmoid = 0;
        for (boolean resetAfter : new boolean[] {true, false}) {
            for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                for (KerasActivation act : ACTIVATIONS) {
                    for (KerasActivation rec : ACTIVATIONS) {
                        Keras k = Keras.random(new Random(24), resetAfter, dt == DataType.FLOAT,
                                rec.bounded() ? 1.0 : 1.0 / 3);
                        double[][][] expected = reference(k, act, rec);
                        for (boolean cpu : new boolean[] {true, false}) {
                            double diff = maxRelativeDifference(expected, layerOutput(k, act, rec, dt, cpu));
                            double tol = dt == DataType.FLOAT ? 5e-6
                                    : !cpu && (act.name().contains("Keras 2") || rec.name().contains("Keras 2"))
                                    ? 1e-7 : 1e-12;
                            int path = cpu ? 0 : 1;
                            if (dt == DataType.FLOAT) {
                                worstFloat[path] = Math.max(worstFloat[path], diff);
                            } else if (tol == 1e-12) {
                                worstDouble[path] = Math.max(worstDouble[path], diff);
                            } else {
                                worstDoubleOpsHardSigmoid = Math.max(worstDoubleOpsHardSigmoid, diff);
                            }
                            LOG.debug("resetAfter={} {} act={} rec={} cpu={}: {}", resetAfter, dt, act, rec, cpu, diff);
                            if (!(diff <= tol)) {
                                failures.add(String.format("resetAfter=%s %s act=%s rec=%s %s: %.3g > %.0g",
                                        resetAfter, dt, act, rec, cpu ? "cpu kernel" : "op path", diff, tol));
                            }
                        }
                    }
                }
            }
        }
        LOG.info("Keras equations: worst relative difference, CPU kernel float {} double {}, op path float {} double {}"
                + " ({} with HARDSIGMOID); hard-sigmoid gate inputs clipped {}, linear {}", worstFloat[0],
                worstDouble[0], worstFloat[1], worstDouble[1], worstDoubleOpsHardSigmoid, clipped, linear);
        assertThat(failures).isEmpty();
        // The cases exercise both parts of the hard sigmoids (pre-activations beyond and inside the edges).
        assertThat(clipped).isGreaterThan(100);
        assertThat(linear).isGreaterThan(100);
    }

    /** Keras weights and input: kernel [nIn, 3u], recurrent kernel [u, 3u], bias [2, 3u] or [1, 3u]; x [mb][T][nIn]. */
    record Keras(boolean resetAfter, double[][] kernel, double[][] recurrent, double[][] bias, double[][][] x) {

        static Keras random(Random r, boolean resetAfter, boolean roundToFloat, double scale) {
            double[][] kernel = gaussian(r, N_IN, 3 * U, 0.9 * scale, roundToFloat);
            double[][] recurrent = gaussian(r, U, 3 * U, 0.3 * scale, roundToFloat);
            double[][] bias = gaussian(r, resetAfter ? 2 : 1, 3 * U, 0.9 * scale, roundToFloat);
            double[][][] x = new double[MB][][];
            for (int b = 0; b < MB; b++) {
                x[b] = gaussian(r, T, N_IN, 1.0, roundToFloat);
            }
            return new Keras(resetAfter, kernel, recurrent, bias, x);
        }

        private static double[][] gaussian(Random r, int rows, int cols, double scale, boolean roundToFloat) {
            double[][] m = new double[rows][cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double v = scale * r.nextGaussian();
                    m[i][j] = roundToFloat ? (float) v : v;
                }
            }
            return m;
        }
    }

    /** Keras's GRU cell (keras/src/layers/rnn/gru.py, GRUCell.call), gate blocks z, r, h; returns h [mb][T][u]. */
    private double[][][] reference(Keras k, KerasActivation act, KerasActivation rec) {
        double[][][] out = new double[MB][T][];
        for (int b = 0; b < MB; b++) {
            double[] h = new double[U];
            for (int t = 0; t < T; t++) {
                double[] xt = k.x()[b][t];
                double[] z = new double[U];
                double[] r = new double[U];
                double[] rh = new double[U];
                for (int j = 0; j < U; j++) {
                    // reset_after=True: the recurrent bias (row 1) joins the recurrent products
                    double recBiasZ = k.resetAfter() ? k.bias()[1][j] : 0.0;
                    double recBiasR = k.resetAfter() ? k.bias()[1][U + j] : 0.0;
                    z[j] = gate(rec, dot(xt, k.kernel(), j) + k.bias()[0][j] + dot(h, k.recurrent(), j) + recBiasZ);
                    r[j] = gate(rec, dot(xt, k.kernel(), U + j) + k.bias()[0][U + j] + dot(h, k.recurrent(), U + j)
                            + recBiasR);
                    rh[j] = r[j] * h[j];
                }
                double[] hNew = new double[U];
                for (int j = 0; j < U; j++) {
                    double xh = dot(xt, k.kernel(), 2 * U + j) + k.bias()[0][2 * U + j];
                    double recurrentTerm = k.resetAfter()
                            ? r[j] * (dot(h, k.recurrent(), 2 * U + j) + k.bias()[1][2 * U + j])
                            : dot(rh, k.recurrent(), 2 * U + j);
                    double hh = act.f().applyAsDouble(xh + recurrentTerm);
                    hNew[j] = z[j] * h[j] + (1.0 - z[j]) * hh;
                }
                h = hNew;
                out[b][t] = h;
            }
        }
        return out;
    }

    /** The recurrent activation, counting which part of a hard sigmoid its input falls in. */
    private double gate(KerasActivation rec, double x) {
        if (rec.name().startsWith("hard_sigmoid")) {
            double edge = rec.name().contains("Keras 2") ? 2.5 : 3.0;
            if (Math.abs(x) >= edge) {
                clipped++;
            } else {
                linear++;
            }
        }
        return rec.f().applyAsDouble(x);
    }

    /** Σ_i v[i] · m[i][col]. */
    private static double dot(double[] v, double[][] m, int col) {
        double s = 0;
        for (int i = 0; i < v.length; i++) {
            s += v[i] * m[i][col];
        }
        return s;
    }

    /** The layer's NCW output [mb, u, T] for the Keras weights converted to its layout. */
    private static INDArray layerOutput(Keras k, KerasActivation act, KerasActivation rec, DataType dt, boolean cpu) {
        System.setProperty(RecurrentCpuKernel.PROPERTY, Boolean.toString(cpu));
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(dt).list()
                .layer(new GRU.Builder().nIn(N_IN).nOut(U).resetAfter(k.resetAfter()).activation(act.dl4j())
                        .gateActivationFunction(rec.dl4j()).build())
                .build());
        net.init();
        assertThat(net.getLayer(0).conf().getLayer()).isInstanceOf(GRU.class);
        net.getLayer(0).setParam("W", Nd4j.createFromArray(swapZr(k.kernel())).castTo(dt));
        net.getLayer(0).setParam("RW", Nd4j.createFromArray(swapZr(k.recurrent())).castTo(dt));
        double[][] b = swapZr(k.bias());
        net.getLayer(0).setParam("b", Nd4j.createFromArray(new double[][] {b[0]}).castTo(dt));
        if (k.resetAfter()) {
            net.getLayer(0).setParam("rb", Nd4j.createFromArray(new double[][] {b[1]}).castTo(dt));
        }
        INDArray x = Nd4j.create(dt, MB, N_IN, T);
        for (int e = 0; e < MB; e++) {
            for (int t = 0; t < T; t++) {
                for (int i = 0; i < N_IN; i++) {
                    x.putScalar(new int[] {e, i, t}, k.x()[e][t][i]);
                }
            }
        }
        return net.output(x);
    }

    /** Keras's column blocks (z, r, h) in the layer's order (r, z, n). */
    static double[][] swapZr(double[][] m) {
        int u = m[0].length / 3;
        double[][] out = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
            System.arraycopy(m[i], u, out[i], 0, u);
            System.arraycopy(m[i], 0, out[i], u, u);
        }
        return out;
    }

    private static double maxRelativeDifference(double[][][] expected, INDArray actual) {
        double worst = 0;
        for (int e = 0; e < MB; e++) {
            for (int t = 0; t < T; t++) {
                for (int j = 0; j < U; j++) {
                    double a = actual.getDouble(e, j, t);
                    double d = Math.abs(a - expected[e][t][j]) / Math.max(1.0, Math.abs(expected[e][t][j]));
                    worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
                }
            }
        }
        return worst;
    }
}
