package org.dl4jclipping.privacy;

import java.security.SecureRandom;
import java.util.Random;
import org.dl4jclipping.strategy.Check;

/**
 * Where DP-SGD's Gaussian noise comes from, and what the step reports say about it.
 *
 * <ul>
 *   <li>{@link #secure()}, the default: a {@code java.security.SecureRandom} of the JDK's {@code DRBG} (NIST SP
 *       800-90A Hash_DRBG, SHA-256, seeded and reseeded by the operating system's entropy; the platform's default
 *       {@code SecureRandom} where DRBG is missing), read in blocks of 8 KiB, each 8 bytes a uniform double of 53
 *       bits, turned into normals by the polar method (Marsaglia 1964, the method of the JDK's own
 *       {@code nextGaussian}). Reading in blocks is what makes it cheap: a {@code SecureRandom.nextGaussian} call
 *       per parameter took 0.36 µs (1.59 ms per step for a 4,400-parameter LSTM, JMH on one thread), the blocks
 *       0.04 µs per normal (0.18 ms). Required for the privacy guarantee: a predictable noise can be subtracted. Note that the noise is still a
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
    /** Secure only: the block of random bytes being read, and the read position. */
    private final java.nio.ByteBuffer block;
    /** Secure only: the second normal of the last polar pair, or NaN. */
    private double spare = Double.NaN;

    private NoiseSource(String description, boolean secure, Random random, double[] replay) {
        this.description = description;
        this.secure = secure;
        this.random = random;
        this.replay = replay;
        this.block = secure ? java.nio.ByteBuffer.allocate(8192).position(8192) : null;
    }

    /** Noise from a new {@code SecureRandom} (the default): DRBG where the JDK has it, read in blocks. */
    public static NoiseSource secure() {
        SecureRandom r;
        try {
            r = SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            r = new SecureRandom();
        }
        return new NoiseSource("SecureRandom (" + r + ")", true, r, null);
    }

    /**
     * The secure source's algorithm (blocks of bytes, polar method) on another generator's bytes: for testing the
     * transform with a seeded {@code Random}; reported as secure, so never use it for training.
     */
    static NoiseSource blocksOf(Random bytes) {
        return new NoiseSource("test blocks of " + bytes, true, bytes, null);
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
        if (secure) {
            return polar();
        }
        if (replay == null) {
            return random.nextGaussian();
        }
        if (next >= replay.length) {
            throw new IllegalStateException("The replayed noise is used up: " + replay.length + " draws were given, "
                    + "draw " + (next + 1) + " was asked for (one per parameter per step)");
        }
        return replay[next++];
    }

    /** The polar method on uniforms from the secure generator's blocks; two normals per accepted pair. */
    private double polar() {
        if (!Double.isNaN(spare)) {
            double z = spare;
            spare = Double.NaN;
            return z;
        }
        double v1;
        double v2;
        double s;
        do {
            v1 = 2 * uniform() - 1;
            v2 = 2 * uniform() - 1;
            s = v1 * v1 + v2 * v2;
        } while (s >= 1 || s == 0);
        double m = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
        spare = v2 * m;
        return v1 * m;
    }

    /** A uniform double in [0, 1) from the next 53 random bits. */
    private double uniform() {
        if (!block.hasRemaining()) {
            random.nextBytes(block.array());
            block.clear();
        }
        return (block.getLong() >>> 11) * 0x1.0p-53;
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
