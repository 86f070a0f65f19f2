package org.dl4jclipping.privacy;

import java.security.SecureRandom;
import java.util.List;
import java.util.Random;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Poisson sampling, the batches DP-SGD's privacy accounting assumes: for each batch, every example of the training
 * set joins independently with probability {@code q}. Batch sizes vary (binomial, mean {@code q * N}); a batch may
 * be empty (then its features and labels have zero rows, and {@link PrivateTraining} still takes a noise-only step,
 * which the accountant counts). An epoch is {@code floor(1 / q)} batches (at least 1), so that each example is
 * drawn about once per epoch; {@link #reset()} starts a new epoch, with fresh draws.
 *
 * <p>The draws come from {@code SecureRandom} by default (which examples were used is itself private); a seeded
 * {@code java.util.Random} only when a seed is given, for tests and experiments. Fixed-size shuffled batches, or any
 * other sampler, are not covered by the accounting (Opacus issues #80, #813).
 *
 * <p>Not thread-safe. Masks are sampled with their examples. A {@link DataSetPreProcessor} set on it is applied to
 * every non-empty batch. For a {@code MultiDataSet} (a {@code ComputationGraph}'s data) use
 * {@link MultiDataSetPoissonSampling}, which draws the same way.
 */
public final class PoissonSampling implements DataSetIterator {

    private static final long serialVersionUID = 1L;

    private final DataSet data;
    private final PoissonDraws draws;
    private DataSetPreProcessor preProcessor;

    /** Poisson batches of {@code data} with sample rate {@code q}, drawn by {@code SecureRandom}. */
    public PoissonSampling(DataSet data, double q) {
        this(data, q, new SecureRandom());
    }

    /** Poisson batches of {@code data} with sample rate {@code q}, drawn by {@code java.util.Random(seed)}. */
    public PoissonSampling(DataSet data, double q, long seed) {
        this(data, q, new Random(seed));
    }

    PoissonSampling(DataSet data, double q, Random random) {
        this.data = Check.notNull("data", data);
        Check.atLeast("data.numExamples()", data.numExamples(), 1);
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

    @Override
    public boolean hasNext() {
        return draws.hasNext();
    }

    @Override
    public DataSet next() {
        int[] chosen = draws.next(data.numExamples());
        if (chosen.length == 0) {
            return empty();
        }
        DataSet batch = data.get(chosen);
        if (preProcessor != null) {
            preProcessor.preProcess(batch);
        }
        return batch;
    }

    /** A batch with zero examples: features and labels with zero rows, no masks. */
    private DataSet empty() {
        return new DataSet(noRows(data.getFeatures()), noRows(data.getLabels()));
    }

    static INDArray noRows(INDArray x) {
        long[] shape = x.shape().clone();
        shape[0] = 0;
        return Nd4j.create(x.dataType(), shape);
    }

    /** Not supported: a Poisson batch's size is drawn, not asked for. */
    @Override
    public DataSet next(int num) {
        throw new UnsupportedOperationException("PoissonSampling draws each batch's size (binomial, mean q * N); "
                + "next(int) is not supported: call next()");
    }

    @Override
    public int inputColumns() {
        return (int) data.getFeatures().size(1);
    }

    @Override
    public int totalOutcomes() {
        return (int) data.getLabels().size(1);
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

    /** The expected batch size {@code q * N}, rounded. */
    @Override
    public int batch() {
        return (int) Math.round(draws.q() * data.numExamples());
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return null;
    }
}
