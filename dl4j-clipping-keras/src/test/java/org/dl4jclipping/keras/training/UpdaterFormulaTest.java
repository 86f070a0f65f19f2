package org.dl4jclipping.keras.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.keras.training.TrainingConfigs.optimizer;

import java.util.Random;
import java.util.stream.Stream;
import org.dl4jclipping.keras.KerasTraining;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The DL4J updater each Keras optimizer maps to computes Keras's update: five steps of DL4J's updater (with the
 * initial state {@link KerasTraining#initialUpdaterState()} asks for) against a double reference written from
 * Keras's update code (standalone Keras 2.0-2.3 {@code keras/optimizers.py}, tf.keras OptimizerV2's
 * {@code training_ops}, Keras 3 {@code keras/optimizers/*.py}), in float and in double, within
 * {@link Close}'s tolerance (1e-6 / 1e-12 relative). Gradients: 5 steps x 7 elements, normal with per-element
 * scales from 1e-4 to 10 (so that the epsilons matter for some), seed 24.
 */
class UpdaterFormulaTest {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UpdaterFormulaTest.class);

    private static final int STEPS = 5;
    private static final int N = 7;

    /** A Keras update rule: the parameter change of step {@code t} (from 1) given gradient {@code g}. */
    interface Reference {
        double[] step(double[] g, int t);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("SGD lr 0.1 (Keras 2.2.4)", optimizer("SGD", "\"lr\": 0.1, \"momentum\": 0.0, "
                        + "\"decay\": 0.0, \"nesterov\": false"), "2.2.4", (Reference) new Sgd(0.1, 0.0)),
                Arguments.of("SGD decay 0.1 (Keras 2.2.4)", optimizer("SGD", "\"lr\": 0.1, \"momentum\": 0.0, "
                        + "\"decay\": 0.1, \"nesterov\": false"), "2.2.4", new Sgd(0.1, 0.1)),
                Arguments.of("SGD Nesterov + decay (the 2.0.9 file)", TrainingConfigs.FILE_KERAS_2_0_9, "2.0.9",
                        new MomentumRef(0.019999999552965164, 9.999999974752427e-07, 0.8999999761581421, true)),
                Arguments.of("SGD Nesterov, large decay (Keras 3 has none: tf.keras 2.9)", optimizer("SGD",
                        "\"name\": \"SGD\", \"learning_rate\": 0.05, \"decay\": 0.3, \"momentum\": 0.7, "
                                + "\"nesterov\": true"), "2.9.0", new MomentumRef(0.05, 0.3, 0.7, true)),
                Arguments.of("SGD classical momentum + decay (Keras 2.2.4)", optimizer("SGD", "\"lr\": 0.05, "
                        + "\"momentum\": 0.8, \"decay\": 0.3, \"nesterov\": false"), "2.2.4",
                        new MomentumRef(0.05, 0.3, 0.8, false)),
                Arguments.of("SGD classical momentum (Keras 3)", optimizer("SGD", "\"name\": \"SGD\", "
                        + "\"learning_rate\": 0.01, \"momentum\": 0.9, \"nesterov\": false, \"clipnorm\": null"),
                        "3.8.0", new MomentumRef(0.01, 0.0, 0.9, false)),
                                Arguments.of("Adam (the 2.10.0 file)", TrainingConfigs.FILE_KERAS_2_10_0, "2.10.0",
                        new AdamRef(0.0005000000237487257, 0.8999999761581421, 0.9990000128746033, 1e-7, false, 0)),
                Arguments.of("Adam decay 0.2 (Keras 2.1)", optimizer("Adam", "\"lr\": 0.01, \"beta_1\": 0.8, "
                        + "\"beta_2\": 0.95, \"epsilon\": 1e-3, \"decay\": 0.2, \"amsgrad\": false"), "2.1.0",
                        new AdamRef(0.01, 0.8, 0.95, 1e-3, false, 0.2)),
                Arguments.of("AMSGrad (Keras 3)", optimizer("Adam", "\"name\": \"adam\", \"learning_rate\": 0.01, "
                        + "\"beta_1\": 0.5, \"beta_2\": 0.6, \"epsilon\": 1e-4, \"amsgrad\": true, \"clipnorm\": null"),
                        "3.8.0", new AdamRef(0.01, 0.5, 0.6, 1e-4, true, 0)),
                Arguments.of("RMSprop (Keras 2.0.9)", optimizer("RMSprop", "\"lr\": 0.01, \"rho\": 0.8, "
                        + "\"epsilon\": 1e-3, \"decay\": 0.0"), "2.0.9", new RmsRef(0.01, 0.8, 1e-3)),
                Arguments.of("RMSprop (tf.keras 2.9, no momentum)", optimizer("RMSprop", "\"name\": \"RMSprop\", "
                        + "\"learning_rate\": 0.01, \"decay\": 0.0, \"rho\": 0.8, \"momentum\": 0.0, "
                        + "\"epsilon\": 1e-3, \"centered\": false"), "2.9.0", new RmsRef(0.01, 0.8, 1e-3)),
                Arguments.of("Adagrad, initial accumulator 0.1 (tf.keras 2.6)", optimizer("Adagrad",
                        "\"name\": \"Adagrad\", \"learning_rate\": 0.05, \"decay\": 0.0, "
                                + "\"initial_accumulator_value\": 0.1, \"epsilon\": 1e-3"), "2.6.0",
                        new AdagradRef(0.05, 0.1, 1e-3)),
                Arguments.of("Adagrad (Keras 2.0.9: accumulator from 0)", optimizer("Adagrad", "\"lr\": 0.05, "
                        + "\"epsilon\": 1e-3, \"decay\": 0.0"), "2.0.9", new AdagradRef(0.05, 0.0, 1e-3)),
                Arguments.of("Adadelta lr 1 (Keras 2.2)", optimizer("Adadelta", "\"lr\": 1.0, \"rho\": 0.9, "
                        + "\"epsilon\": 1e-4, \"decay\": 0.0"), "2.2.0", new AdadeltaRef(0.9, 1e-4)),
                // DL4J's AdaMax ignores epsilon (libnd4j divides by u + 1e-32): Keras's formula with epsilon 0,
                // as the description says
                Arguments.of("Adamax (tf.keras 2.7), epsilon ignored", optimizer("Adamax", "\"name\": \"Adamax\", "
                        + "\"learning_rate\": 0.02, \"decay\": 0.0, \"beta_1\": 0.7, \"beta_2\": 0.9, "
                        + "\"epsilon\": 1e-3"),
                        "2.7.0", new AdamaxRef(0.02, 0.7, 0.9, 0.0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void dl4jUpdater_equalsKerasFormula_double(String name, String json, String version, Reference keras) {
        check(json, version, keras, DataType.DOUBLE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void dl4jUpdater_equalsKerasFormula_float(String name, String json, String version, Reference keras) {
        check(json, version, keras, DataType.FLOAT);
    }

    private static void check(String json, String version, Reference keras, DataType dt) {
        KerasTraining t = KerasTraining.parse(json, version);
        double[][] grads = gradients(dt);
        double[][] actual = dl4jUpdates(t.updater(), t.initialUpdaterState().orElse(null), grads, dt);
        double[][] expected = new double[STEPS][];
        for (int s = 0; s < STEPS; s++) {
            expected[s] = keras.step(grads[s], s + 1);
        }
        double worst = worstDifference(actual, expected);
        LOG.info("{} {}: worst difference to Keras's formula {} of the element's largest update", dt,
                t.optimizerName(), worst);
        assertThat(worst).as(t.description()).isLessThanOrEqualTo(tolerance(dt));
    }

    /**
     * Float runs keep the optimizer state (momenta, averages) in float32 over five steps, where the first moment
     * can cancel: each element's error is measured against that element's largest update over the steps (1e-5 in
     * float, about 80 float32 ulps); double runs against 1e-12.
     */
    static double tolerance(DataType dt) {
        return dt == DataType.FLOAT ? 1e-5 : 1e-12;
    }

    /** max over steps and elements of |actual - expected| / (the element's largest |expected| over the steps). */
    static double worstDifference(double[][] actual, double[][] expected) {
        double worst = 0;
        for (int i = 0; i < N; i++) {
            double scale = 0;
            for (double[] e : expected) {
                scale = Math.max(scale, Math.abs(e[i]));
            }
            for (int s = 0; s < expected.length; s++) {
                worst = Math.max(worst, Math.abs(actual[s][i] - expected[s][i]) / scale);
            }
        }
        return worst;
    }

    /** The parameter changes DL4J makes (params -= update), step by step. */
    static double[][] dl4jUpdates(IUpdater u, Double initialState, double[][] grads, DataType dt) {
        long size = u.stateSize(N);
        INDArray view = size > 0 ? Nd4j.zeros(dt, 1, size) : null;
        GradientUpdater<?> gu = u.instantiate(view, true);
        if (initialState != null) {
            view.assign(initialState);
        }
        double[][] out = new double[grads.length][];
        for (int s = 0; s < grads.length; s++) {
            INDArray g = Nd4j.createFromArray(grads[s]).castTo(dt).reshape(1, N);
            gu.applyUpdater(g, s, 0);
            out[s] = g.neg().castTo(DataType.DOUBLE).toDoubleVector();
        }
        return out;
    }

    /** Seeded gradients, rounded to {@code dt} so that both sides see the same inputs. */
    static double[][] gradients(DataType dt) {
        Random r = new Random(24);
        double[] scale = {1e-4, 1e-3, 0.01, 0.1, 1, 3, 10};
        double[][] g = new double[STEPS][N];
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < N; i++) {
                double v = r.nextGaussian() * scale[i];
                g[s][i] = dt == DataType.FLOAT ? (float) v : v;
            }
        }
        return g;
    }

    /** Standalone Keras SGD without momentum: p -= lr / (1 + decay * (t - 1)) * g. */
    record Sgd(double lr, double decay) implements Reference {
        @Override
        public double[] step(double[] g, int t) {
            double lrT = lr / (1 + decay * (t - 1));
            double[] d = new double[N];
            for (int i = 0; i < N; i++) {
                d[i] = -lrT * g[i];
            }
            return d;
        }
    }

    /**
     * Keras SGD with momentum: v = mu v - lr_t g; p += v (classical) or p += mu v - lr_t g (nesterov=True), with
     * lr_t = lr / (1 + decay (t-1)).
     */
    record MomentumRef(double lr, double decay, double mu, boolean nesterov, double[] v) implements Reference {
        MomentumRef(double lr, double decay, double mu, boolean nesterov) {
            this(lr, decay, mu, nesterov, new double[N]);
        }

        @Override
        public double[] step(double[] g, int t) {
            double lrT = lr / (1 + decay * (t - 1));
            double[] d = new double[N];
            for (int i = 0; i < N; i++) {
                v[i] = mu * v[i] - lrT * g[i];
                d[i] = nesterov ? mu * v[i] - lrT * g[i] : v[i];
            }
            return d;
        }
    }

    /**
     * Keras Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2 (amsgrad: vhat = max(vhat, v) used instead of v);
     * p -= lr_t sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps), lr_t = lr / (1 + decay (t-1)).
     */
    record AdamRef(double lr, double b1, double b2, double eps, boolean amsgrad, double decay, double[][] state)
            implements Reference {
        AdamRef(double lr, double b1, double b2, double eps, boolean amsgrad, double decay) {
            this(lr, b1, b2, eps, amsgrad, decay, new double[3][N]);
        }

        @Override
        public double[] step(double[] g, int t) {
            double[] m = state[0];
            double[] v = state[1];
            double[] vhat = state[2];
            double a = lr / (1 + decay * (t - 1)) * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
            double[] d = new double[N];
            for (int i = 0; i < N; i++) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                vhat[i] = Math.max(vhat[i], v[i]);
                d[i] = -a * m[i] / (Math.sqrt(amsgrad ? vhat[i] : v[i]) + eps);
            }
            return d;
        }
    }

    /**
     * Standalone Keras and tf.keras OptimizerV2 (momentum 0) RMSprop: a = rho a + (1-rho) g^2 (a from 0);
     * p -= lr g / (sqrt(a) + eps).
     */
    record RmsRef(double lr, double rho, double eps, double[] a) implements Reference {
        RmsRef(double lr, double rho, double eps) {
            this(lr, rho, eps, new double[N]);
        }

        @Override
        public double[] step(double[] g, int t) {
            double[] d = new double[N];
            for (int i = 0; i < N; i++) {
                a[i] = rho * a[i] + (1 - rho) * g[i] * g[i];
                d[i] = -lr * g[i] / (Math.sqrt(a[i]) + eps);
            }
            return d;
        }
    }

    /** Keras Adagrad (standalone, tf.keras AdagradV2): a += g^2 (a from a0); p -= lr g / (sqrt(a) + eps). */
    record AdagradRef(double lr, double eps, double[] a) implements Reference {
        AdagradRef(double lr, double a0, double eps) {
            this(lr, eps, filled(a0));
        }

        private static double[] filled(double a0) {
            double[] a = new double[N];
            java.util.Arrays.fill(a, a0);
            return a;
        }

        @Override
        public double[] step(double[] g, int t) {
            double[] d = new double[N];
            for (int i = 0; i < N; i++) {
                a[i] += g[i] * g[i];
                d[i] = -lr * g[i] / (Math.sqrt(a[i]) + eps);
            }
            return d;
        }
    }

    /**
     * Keras Adadelta with lr 1: a = rho a + (1-rho) g^2; u = g sqrt(d + eps) / sqrt(a + eps); p -= u;
     * d = rho d + (1-rho) u^2.
     */
    record AdadeltaRef(double rho, double eps, double[][] state) implements Reference {
        AdadeltaRef(double rho, double eps) {
            this(rho, eps, new double[2][N]);
        }

        @Override
        public double[] step(double[] g, int t) {
            double[] a = state[0];
            double[] dAcc = state[1];
            double[] d = new double[N];
            for (int i = 0; i < N; i++) {
                a[i] = rho * a[i] + (1 - rho) * g[i] * g[i];
                double u = g[i] * Math.sqrt(dAcc[i] + eps) / Math.sqrt(a[i] + eps);
                d[i] = -u;
                dAcc[i] = rho * dAcc[i] + (1 - rho) * u * u;
            }
            return d;
        }
    }

    /** Keras Adamax: m = b1 m + (1-b1) g; u = max(b2 u, |g|); p -= lr / (1-b1^t) m / (u + eps). */
    record AdamaxRef(double lr, double b1, double b2, double eps, double[][] state) implements Reference {
        AdamaxRef(double lr, double b1, double b2, double eps) {
            this(lr, b1, b2, eps, new double[2][N]);
        }

        @Override
        public double[] step(double[] g, int t) {
            double[] m = state[0];
            double[] u = state[1];
            double[] d = new double[N];
            for (int i = 0; i < N; i++) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                u[i] = Math.max(b2 * u[i], Math.abs(g[i]));
                d[i] = -lr / (1 - Math.pow(b1, t)) * m[i] / (u[i] + eps);
            }
            return d;
        }
    }
}
