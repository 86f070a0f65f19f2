package org.dl4jclipping.privacy;

import java.security.SecureRandom;
import java.util.Random;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link PoissonSampling} for a {@code MultiDataSet} (a {@code ComputationGraph}'s data: several inputs and outputs,
 * each with an optional mask): for each batch, every example joins independently with probability {@code q}, and
 * joins with the rows of every features, labels and mask array. Batch sizes are binomial with mean {@code q * N}; a
 * batch may be empty (then every features and labels array has zero rows, and there are no masks). An epoch is
 * {@code floor(1 / q)} batches (at least 1); {@link #reset()} starts a new epoch.
 *
 * <p>The draws are those of {@link PoissonSampling} (one {@code nextDouble() < q} per example, in order), so the same
 * random stream picks the same examples from a {@code DataSet} and from the {@code MultiDataSet} of the same arrays.
 * {@code SecureRandom} by default; a seeded {@code java.util.Random} only for tests and experiments. Not
 * thread-safe. A {@link MultiDataSetPreProcessor} set on it is applied to every non-empty batch.
 */
public final class MultiDataSetPoissonSampling implements MultiDataSetIterator {

    private static final long serialVersionUID = 1L;

    private final MultiDataSet data;
    private final int examples;
    private final PoissonDraws draws;
    private MultiDataSetPreProcessor preProcessor;

    /** Poisson batches of {@code data} with sample rate {@code q}, drawn by {@code SecureRandom}. */
    public MultiDataSetPoissonSampling(MultiDataSet data, double q) {
        this(data, q, new SecureRandom());
    }

    /** Poisson batches of {@code data} with sample rate {@code q}, drawn by {@code java.util.Random(seed)}. */
    public MultiDataSetPoissonSampling(MultiDataSet data, double q, long seed) {
        this(data, q, new Random(seed));
    }

    MultiDataSetPoissonSampling(MultiDataSet data, double q, Random random) {
        this.data = Check.notNull("data", data);
        INDArray[] features = data.getFeatures();
        if (features == null || features.length == 0 || features[0] == null) {
            throw new IllegalArgumentException("data.getFeatures() is empty: a MultiDataSet to sample from needs one "
                    + "features array per graph input");
        }
        this.examples = Math.toIntExact(features[0].size(0));
        Check.atLeast("data.getFeatures()[0].size(0)", examples, 1);
        this.draws = new PoissonDraws(q, random);
    }

    /** The sample rate. */
    public double sampleRate() {
        return draws.q();
    }

    /** The batches in one epoch: {@code floor(1 / q)}, at least 1. */
    public int batchesPerEpoch() {
        return draws.perEpoch();
    }

    /** {@code N}, the examples sampled from (the rows of the first features array). */
    public int numExamples() {
        return examples;
    }

    @Override
    public boolean hasNext() {
        return draws.hasNext();
    }

    @Override
    public MultiDataSet next() {
        int[] chosen = draws.next(examples);
        if (chosen.length == 0) {
            return new org.nd4j.linalg.dataset.MultiDataSet(noRows(data.getFeatures()), noRows(data.getLabels()));
        }
        MultiDataSet batch = new org.nd4j.linalg.dataset.MultiDataSet(rows(data.getFeatures(), chosen),
                rows(data.getLabels(), chosen), rows(data.getFeaturesMaskArrays(), chosen),
                rows(data.getLabelsMaskArrays(), chosen));
        if (preProcessor != null) {
            preProcessor.preProcess(batch);
        }
        return batch;
    }

    /** Rows {@code chosen} (in that order) of each array, copied; null stays null. */
    private static INDArray[] rows(INDArray[] xs, int[] chosen) {
        if (xs == null) {
            return null;
        }
        INDArray[] out = new INDArray[xs.length];
        for (int k = 0; k < xs.length; k++) {
            INDArray x = xs[k];
            if (x == null) {
                continue;
            }
            long[] shape = x.shape().clone();
            shape[0] = chosen.length;
            INDArray y = Nd4j.create(x.dataType(), shape);
            for (int r = 0; r < chosen.length; r++) {
                y.get(NDArrayIndex.interval(r, r + 1)).assign(x.get(NDArrayIndex.interval(chosen[r], chosen[r] + 1)));
            }
            out[k] = y;
        }
        return out;
    }

    private static INDArray[] noRows(INDArray[] xs) {
        if (xs == null) {
            return null;
        }
        INDArray[] out = new INDArray[xs.length];
        for (int k = 0; k < xs.length; k++) {
            out[k] = xs[k] == null ? null : PoissonSampling.noRows(xs[k]);
        }
        return out;
    }

    /** Not supported: a Poisson batch's size is drawn, not asked for. */
    @Override
    public MultiDataSet next(int num) {
        throw new UnsupportedOperationException("MultiDataSetPoissonSampling draws each batch's size (binomial, mean "
                + "q * N); next(int) is not supported: call next()");
    }

    @Override
    public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public MultiDataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        draws.reset();
    }
}
