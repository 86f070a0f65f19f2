package org.dl4jclipping.privacy;

import java.security.SecureRandom;
import java.util.Random;
import org.dl4jclipping.strategy.Check;

/**
 * Where DP-SGD's Gaussian noise comes from, and what the step reports say about it.
 *
 * <ul>
 *   <li>{@link #secure()}, the default: {@code java.security.SecureRandom}'s {@code nextGaussian} (the JDK's polar
 *       method fed by the strongest generator the platform offers, seeded by the operating system). Required for
 *       the privacy guarantee: a predictable noise can be subtracted. Note that the noise is still a
 *       floating-point approximation of a Gaussian, whose discreteness an attacker can in principle exploit
 *       (Opacus issue #616; Mironov 2012 for the Laplace case): not a defence this library makes.</li>
 *   <li>{@link #seeded(long)}: {@code java.util.Random(seed).nextGaussian()}, reproducible; for tests and
 *       experiments only: <b>no privacy</b>, since the seed determines the noise.</li>
 *   <li>{@link #replay(double[])}: given standard normal draws, in order (to reproduce another implementation's
 *       step exactly); no privacy either.</li>
 * </ul>
 * Not thread-safe.
 */
public final class NoiseSource {

    private final String description;
    private final boolean secure;
    private final Random random;
    private final double[] replay;
    private int next;

    private NoiseSource(String description, boolean secure, Random random, double[] replay) {
        this.description = description;
        this.secure = secure;
        this.random = random;
        this.replay = replay;
    }

    /** Noise from a new {@code SecureRandom} (the default). */
    public static NoiseSource secure() {
        SecureRandom r = new SecureRandom();
        return new NoiseSource("SecureRandom (" + r.getAlgorithm() + ")", true, r, null);
    }

    /** Reproducible noise from {@code java.util.Random(seed)}: no privacy. */
    public static NoiseSource seeded(long seed) {
        return new NoiseSource("java.util.Random(seed " + seed + "), NOT private", false, new Random(seed), null);
    }

    /**
     * The given standard normal draws, in order; asking for more than were given fails.
     *
     * @param standardNormals finite values; copied
     */
    public static NoiseSource replay(double[] standardNormals) {
        double[] z = Check.notNull("standardNormals", standardNormals).clone();
        for (int k = 0; k < z.length; k++) {
            Check.finite("standardNormals[" + k + "]", z[k]);
        }
        return new NoiseSource("replayed fixture of " + z.length + " draws, NOT private", false, null, z);
    }

    /** The next standard normal value. */
    public double nextGaussian() {
        if (replay == null) {
            return random.nextGaussian();
        }
        if (next >= replay.length) {
            throw new IllegalStateException("The replayed noise is used up: " + replay.length + " draws were given, "
                    + "draw " + (next + 1) + " was asked for (one per parameter per step)");
        }
        return replay[next++];
    }

    /** {@code n} standard normal values. */
    double[] gaussians(long n) {
        double[] out = new double[Math.toIntExact(n)];
        for (int k = 0; k < out.length; k++) {
            out[k] = nextGaussian();
        }
        return out;
    }

    /** Whether the noise is unpredictable (only {@link #secure()}). */
    public boolean isSecure() {
        return secure;
    }

    /** What the reports print: the generator, and "NOT private" unless secure. */
    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return description;
    }
}
