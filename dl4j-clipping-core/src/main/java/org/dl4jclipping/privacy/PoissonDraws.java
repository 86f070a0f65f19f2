package org.dl4jclipping.privacy;

import java.util.Random;
import org.dl4jclipping.strategy.Check;

/**
 * The sampling both Poisson iterators share ({@link PoissonSampling}, {@link MultiDataSetPoissonSampling}): the rate
 * {@code q}, the generator, and epochs of {@code floor(1 / q)} draws (at least 1), each draw letting every example
 * of {@code n} join independently with probability {@code q} ({@code random.nextDouble() < q}, one call per
 * example in index order, so the same stream picks the same examples whichever iterator asks).
 */
final class PoissonDraws {

    private final double q;
    private final Random random;
    private final int perEpoch;
    private int drawn;

    /** @param q in {@code (0, 1]}, checked (named {@code q}) */
    PoissonDraws(double q, Random random) {
        this.q = Check.inHalfOpen("q", q, 0, 1);
        this.random = random;
        this.perEpoch = (int) Math.max(1, Math.floor(1 / q));
    }

    double q() {
        return q;
    }

    int perEpoch() {
        return perEpoch;
    }

    boolean hasNext() {
        return drawn < perEpoch;
    }

    /** The next draw of this epoch: the indices (increasing) of the examples among {@code n} that join. */
    int[] next(int n) {
        if (!hasNext()) {
            throw new java.util.NoSuchElementException("The epoch's " + perEpoch + " batches were all drawn: "
                    + "call reset() for the next epoch");
        }
        drawn++;
        return draw(random, n, q);
    }

    void reset() {
        drawn = 0;
    }

    /** One Poisson draw from {@code random}: the indices (increasing) of the examples among {@code n} that join. */
    static int[] draw(Random random, int n, double q) {
        int[] chosen = new int[n];
        int b = 0;
        for (int i = 0; i < n; i++) {
            if (random.nextDouble() < q) {
                chosen[b++] = i;
            }
        }
        return java.util.Arrays.copyOf(chosen, b);
    }
}
