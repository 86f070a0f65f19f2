package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.privacy.PrivacyAccountant.PrivacySpent;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * DP-SGD for a {@code MultiLayerNetwork} or a {@code ComputationGraph} with Opacus's semantics: Poisson-sampled
 * batches, each example's gradient clipped (flat or per layer), Gaussian noise on the sum, divided by the expected
 * batch size, then the network's own DL4J updater (any {@code IUpdater}) and the privacy accountant.
 *
 * <pre>{@code
 * PrivateTraining dp = PrivateTraining.builder()
 *         .noiseMultiplier(1.1).maxGradNorm(1.0).sampleRate(256.0 / 60000)
 *         .delta(1e-5).epsilonBudget(8.0)
 *         .build();
 * dp.fit(net, trainingSet, 10);                 // Poisson batches, floor(1 / q) steps per epoch
 * System.out.println(dp.spent());               // epsilon so far, at delta
 * PrivateCheckpoint.save(net, dp, file);        // the model with the budget spent
 * }</pre>
 *
 * <p>A {@code ComputationGraph} trains the same way ({@code dp.fit(graph, multiDataSet, epochs)}, or a
 * {@code DataSet} for a graph with one input and one output), its per-example gradients by
 * {@link PerExampleGradients#of(ComputationGraph, MultiDataSet)} (fast path where its layer vertices have one),
 * its own {@code ComputationGraphUpdater}; the noise is drawn in the order of {@code graph.params()} (the layer
 * vertices in topological order), and per-layer thresholds are one per layer vertex with parameters in that order
 * ({@link PerExampleGradients#layerNames()}).
 *
 * <p>One step ({@link #step}): (1) if one more step would take epsilon (at {@code delta}, by the accountant) past the
 * budget, throw {@link PrivacyBudgetExceededException} with nothing changed; (2) per-example gradients
 * ({@link PerExampleGradients}, fast path where the layers have one); (3) {@link NoisyClippedSum}:
 * {@code g = (sum_i f_i g_i + N(0, (sigma C)^2 I)) / (q N)}; (4) the network's DL4J updater on {@code g}
 * ({@link UpdaterStep}); (5) the accountant records the step {@code (q, sigma)}; (6) a {@link DpStepReport} to each
 * consumer. An empty batch still takes the step (noise only) and is counted.
 *
 * <p>Defaults: no budget ({@code epsilonBudget = +Infinity}); noise and sampling from {@code SecureRandom}; with
 * {@link Builder#seed(long)} both come from {@code java.util.Random} streams split off that seed, and every report
 * says "NOT private". Configuration is validated by {@link Builder#build()}, naming the field, value and range.
 *
 * <p>What the guarantee assumes: the batches are Poisson-sampled with rate {@code q} from the {@code N} examples the
 * accountant is told about ({@link #fit} does this; a caller of {@link #step} must too), each example is one
 * individual's data, and the noise is unpredictable ({@code SecureRandom}; floating-point noise caveat: Opacus
 * issue #616). Not thread-safe; one {@code PrivateTraining} per training run.
 *
 * <p>References: Abadi et al., "Deep Learning with Differential Privacy", CCS 2016,
 * <a href="https://arxiv.org/abs/1607.00133">arXiv:1607.00133</a>; Yousefpour et al., "Opacus", 2021,
 * <a href="https://arxiv.org/abs/2109.12298">arXiv:2109.12298</a>.
 */
public final class PrivateTraining {

    private final double noiseMultiplier;
    private final double[] maxGradNorms;
    private final double sampleRate;
    private final double delta;
    private final double epsilonBudget;
    private final NoiseSource noise;
    private final Random sampling;
    private final List<Consumer<DpStepReport>> consumers;
    private PrivacyAccountant accountant;
    private DpStepReport last;

    private PrivateTraining(Builder b) {
        this.noiseMultiplier = b.noiseMultiplier;
        this.maxGradNorms = b.maxGradNorms.clone();
        this.sampleRate = b.sampleRate;
        this.delta = b.delta;
        this.epsilonBudget = b.epsilonBudget;
        if (b.seed == null) {
            this.noise = b.noise != null ? b.noise : NoiseSource.secure();
            this.sampling = new java.security.SecureRandom();
        } else {
            SplittableRandom split = new SplittableRandom(b.seed);
            this.noise = b.noise != null ? b.noise : NoiseSource.seeded(split.nextLong());
            this.sampling = new Random(split.nextLong());
        }
        List<Consumer<DpStepReport>> all = new ArrayList<>(b.consumers);
        double threshold = java.util.Arrays.stream(maxGradNorms).min().orElse(Double.NaN);
        for (org.dl4jclipping.dl4j.ClipHistory h : b.histories) {
            all.add(r -> h.record(r.layers(), new org.dl4jclipping.dl4j.ClipHistory.Step(r.step(), r.normClipped(),
                    r.normNoisy(), r.minFactor(), r.clippedExamples(), 0, 0, false, false, threshold,
                    r.layerNormClipped(), r.layerNormNoisy())));
        }
        this.consumers = List.copyOf(all);
        this.accountant = b.spent == null ? new PrivacyAccountant() : b.spent.copy();
    }

    /** A builder with no budget and secure randomness; noise multiplier, threshold, rate and delta must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Trains {@code epochs} epochs of Poisson-sampled batches of {@code trainingSet} ({@link PoissonSampling}:
     * {@code floor(1 / q)} steps each), one {@link #step} per batch.
     *
     * @throws PrivacyBudgetExceededException before the first step that would exceed the budget (the steps before
     *                                        it are kept)
     */
    public void fit(MultiLayerNetwork net, DataSet trainingSet, int epochs) {
        Check.atLeast("epochs", epochs, 0);
        PoissonSampling batches = new PoissonSampling(trainingSet, sampleRate, sampling);
        for (int e = 0; e < epochs; e++) {
            batches.reset();
            while (batches.hasNext()) {
                step(net, batches.next(), trainingSet.numExamples());
            }
            net.incrementEpochCount();
        }
    }

    /**
     * Trains {@code epochs} epochs of Poisson-sampled batches of {@code trainingSet} ({@link
     * MultiDataSetPoissonSampling}: {@code floor(1 / q)} steps each, the same draws as {@link PoissonSampling} from
     * the same random stream), one {@link #step(ComputationGraph, MultiDataSet, long)} per batch.
     *
     * @param trainingSet one features array per graph input, one labels array per output, optional masks
     * @throws PrivacyBudgetExceededException before the first step that would exceed the budget (the steps before
     *                                        it are kept)
     */
    public void fit(ComputationGraph graph, MultiDataSet trainingSet, int epochs) {
        Check.notNull("graph", graph);
        Check.atLeast("epochs", epochs, 0);
        MultiDataSetPoissonSampling batches = new MultiDataSetPoissonSampling(trainingSet, sampleRate, sampling);
        long n = batches.numExamples();
        for (int e = 0; e < epochs; e++) {
            batches.reset();
            while (batches.hasNext()) {
                step(graph, batches.next(), n);
            }
            graph.incrementEpochCount();
        }
    }

    /**
     * {@link #fit(ComputationGraph, MultiDataSet, int)} for a graph with one input and one output.
     *
     * @throws IllegalArgumentException if the graph does not have exactly one input and one output
     */
    public void fit(ComputationGraph graph, DataSet trainingSet, int epochs) {
        fit(graph, PerExampleGradients.toMultiDataSet(graph, trainingSet), epochs);
    }

    /**
     * One DP-SGD step on {@code batch} (class comment), which must be a Poisson sample with this trainer's rate
     * {@code q} from {@code datasetSize} examples.
     *
     * @param batch       the sampled examples; zero rows (or null features) for an empty batch
     * @param datasetSize {@code N}, the number of examples sampled from; the divisor is {@code q * N}
     * @return the step's report (also handed to the consumers)
     * @throws PrivacyBudgetExceededException if the step would exceed the budget; nothing is changed then
     * @throws IllegalArgumentException       for a layer without per-example gradients (BatchNormalization), or
     *                                        per-layer thresholds that do not match the layers with parameters
     */
    public DpStepReport step(MultiLayerNetwork net, DataSet batch, long datasetSize) {
        Check.notNull("net", net);
        return step(DpModel.of(net), () -> PerExampleGradients.of(net, batch), datasetSize);
    }

    /**
     * One DP-SGD step of {@code graph} on {@code batch}, as {@link #step(MultiLayerNetwork, DataSet, long)}: the
     * batch must be a Poisson sample with this trainer's rate {@code q} from {@code datasetSize} examples.
     *
     * @param batch       the sampled examples, one features array per input and one labels array per output; zero
     *                    rows for an empty batch
     * @param datasetSize {@code N}, the number of examples sampled from; the divisor is {@code q * N}
     * @return the step's report (also handed to the consumers)
     * @throws PrivacyBudgetExceededException if the step would exceed the budget; nothing is changed then
     * @throws IllegalArgumentException       for a vertex without per-example gradients (BatchNormalization), or
     *                                        per-layer thresholds that do not match the layer vertices with
     *                                        parameters
     */
    public DpStepReport step(ComputationGraph graph, MultiDataSet batch, long datasetSize) {
        Check.notNull("graph", graph);
        return step(DpModel.of(graph), () -> PerExampleGradients.of(graph, batch), datasetSize);
    }

    /**
     * {@link #step(ComputationGraph, MultiDataSet, long)} for a graph with one input and one output.
     *
     * @throws IllegalArgumentException if the graph does not have exactly one input and one output
     */
    public DpStepReport step(ComputationGraph graph, DataSet batch, long datasetSize) {
        return step(graph, PerExampleGradients.toMultiDataSet(graph, batch), datasetSize);
    }

    private DpStepReport step(DpModel model, Supplier<PerExampleGradients> perExample, long datasetSize) {
        Check.atLeast("datasetSize", datasetSize, 1);
        model.requireSupported();
        PrivacyAccountant next = accountant.copy().step(sampleRate, noiseMultiplier);
        double epsilon = next.epsilon(delta).epsilon();
        if (epsilon > epsilonBudget) {
            throw new PrivacyBudgetExceededException(spent().epsilon(), epsilon, epsilonBudget, delta,
                    accountant.totalSteps());
        }
        PerExampleGradients pe = perExample.get();
        if (maxGradNorms.length > 1 && maxGradNorms.length != pe.layerIndices().length) {
            throw Check.outOfRange("perLayerMaxGradNorms.length", maxGradNorms.length, "must equal the number of "
                    + "layers with parameters, " + pe.layerIndices().length + " (" + model.listLayers() + ")");
        }
        long iteration = model.iterationCount();
        double expected = sampleRate * datasetSize;
        NoisyClippedSum.Stats stats = NoisyClippedSum.write(pe, maxGradNorms, noiseMultiplier, expected, noise,
                model.flattenedGradients()); // DL4J creates the buffer lazily, at the first fit
        UpdaterStep.apply(model);
        accountant = next;
        last = new DpStepReport(iteration, pe.batchSize(), expected, pe.fast(), stats.norms(),
                stats.fractionClipped(), stats.noiseStd(), noise.description(), epsilon, delta, pe.layerNames(),
                stats.minFactor(), stats.layerClipped(), stats.layerNoisy());
        for (Consumer<DpStepReport> c : consumers) {
            c.accept(last);
        }
        return last;
    }

    /** The privacy spent so far at the configured delta (0 before the first step). */
    public PrivacySpent spent() {
        return accountant.epsilon(delta);
    }

    /** A copy of the accountant: the steps taken, as phases {@code (q, sigma, steps)}. */
    public PrivacyAccountant accountant() {
        return accountant.copy();
    }

    /** The last step's report; null before the first step. */
    public DpStepReport lastReport() {
        return last;
    }

    /** The noise source (its {@link NoiseSource#description()} is in every report). */
    public NoiseSource noiseSource() {
        return noise;
    }

    /** The configured delta. */
    public double delta() {
        return delta;
    }

    /**
     * The configuration. Required: {@link #noiseMultiplier}, {@link #maxGradNorm} or {@link #perLayerMaxGradNorms},
     * {@link #sampleRate}, {@link #delta}.
     */
    public static final class Builder {
        private double noiseMultiplier = Double.NaN;
        private double[] maxGradNorms;
        private boolean perLayer;
        private double sampleRate = Double.NaN;
        private double delta = Double.NaN;
        private double epsilonBudget = Double.POSITIVE_INFINITY;
        private Long seed;
        private NoiseSource noise;
        private PrivacyAccountant spent;
        private final List<Consumer<DpStepReport>> consumers = new ArrayList<>();
        private final List<org.dl4jclipping.dl4j.ClipHistory> histories = new ArrayList<>();

        private Builder() {
        }

        /** {@code sigma}: noise std / clipping norm; finite, {@code >= 0} (0: no privacy, epsilon infinite). */
        public Builder noiseMultiplier(double sigma) {
            this.noiseMultiplier = sigma;
            return this;
        }

        /** Flat clipping: one threshold {@code C} over all parameters of an example; finite, {@code > 0}. */
        public Builder maxGradNorm(double c) {
            this.maxGradNorms = new double[] {c};
            this.perLayer = false;
            return this;
        }

        /**
         * Per-layer clipping: one threshold per layer with parameters, in layer order (at least 2; for one layer
         * use {@link #maxGradNorm}); each finite and {@code > 0}. The noise std uses their L2 norm.
         */
        public Builder perLayerMaxGradNorms(double... c) {
            this.maxGradNorms = Check.notNull("perLayerMaxGradNorms", c).clone();
            this.perLayer = true;
            return this;
        }

        /** {@code q}: the Poisson sample rate, expected batch size / dataset size, in {@code (0, 1]}. */
        public Builder sampleRate(double q) {
            this.sampleRate = q;
            return this;
        }

        /** The delta of the (epsilon, delta) guarantee, in {@code (0, 1)}; typically below 1 / dataset size. */
        public Builder delta(double delta) {
            this.delta = delta;
            return this;
        }

        /** Stop before the step that would spend more than this epsilon; {@code > 0}; default no budget. */
        public Builder epsilonBudget(double epsilon) {
            this.epsilonBudget = epsilon;
            return this;
        }

        /**
         * Reproducible noise and sampling from {@code java.util.Random} streams split off {@code seed}: for tests
         * and experiments, <b>no privacy</b> (every report says so).
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The noise from this source instead (for example {@link NoiseSource#replay} to reproduce a step). */
        public Builder noise(NoiseSource noise) {
            this.noise = Check.notNull("noise", noise);
            return this;
        }

        /** Continue a run: the steps already taken (from {@link PrivateCheckpoint#accountant}); copied. */
        public Builder spent(PrivacyAccountant accountant) {
            this.spent = Check.notNull("spent", accountant);
            return this;
        }

        /**
         * Records each step in {@code history} too, as the other strategies' steps are recorded (so that its CSV,
         * charts and tools read a private run): "before" is the clipped average {@code sum_i f_i g_i / (q N)} (what
         * the data contributed), "after" the noisy gradient the updater received, per layer and in total; the
         * scale is the smallest clipping factor, "clipped" the examples scaled down, the threshold {@code C} (the
         * smallest of the per-layer thresholds).
         */
        public Builder history(org.dl4jclipping.dl4j.ClipHistory history) {
            histories.add(Check.notNull("history", history));
            return this;
        }

        /** Adds a consumer of each step's report. */
        public Builder report(Consumer<DpStepReport> consumer) {
            consumers.add(Check.notNull("report", consumer));
            return this;
        }

        /** Validates (naming field, value, range) and builds. */
        public PrivateTraining build() {
            if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
                throw Check.outOfRange("noiseMultiplier", noiseMultiplier, "must be finite and >= 0 (set it)");
            }
            if (maxGradNorms == null) {
                throw new IllegalArgumentException("maxGradNorm is not set: set maxGradNorm(C) for flat clipping or "
                        + "perLayerMaxGradNorms(C_1, C_2, ...) for per-layer clipping");
            }
            if (perLayer && maxGradNorms.length < 2) {
                throw Check.outOfRange("perLayerMaxGradNorms.length", maxGradNorms.length, "must be >= 2, one "
                        + "threshold per layer with parameters (for one threshold over all parameters use "
                        + "maxGradNorm)");
            }
            for (int k = 0; k < maxGradNorms.length; k++) {
                Check.positiveFinite(!perLayer ? "maxGradNorm" : "perLayerMaxGradNorms[" + k + "]",
                        maxGradNorms[k]);
            }
            Check.inHalfOpen("sampleRate", sampleRate, 0, 1);
            Check.inOpen("delta", delta, 0, 1);
            Check.inHalfOpen("epsilonBudget", epsilonBudget, 0, Double.POSITIVE_INFINITY);
            return new PrivateTraining(this);
        }
    }
}
