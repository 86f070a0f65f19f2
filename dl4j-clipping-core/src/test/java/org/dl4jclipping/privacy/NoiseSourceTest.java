package org.dl4jclipping.privacy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The secure noise source's transform (8 KiB blocks of random bytes, 53-bit uniforms, polar method), checked on a
 * seeded byte stream so that the numbers are fixed: 1,000,000 draws have the moments of a standard normal within
 * 5 standard errors (mean 0 +- 0.005, variance 1 +- 0.0071, fourth moment 3 +- 0.049, P(|z| < 1) = 0.682689 +-
 * 0.0023, P(|z| < 3) = 0.997300 +- 0.00026); and the default source is the JDK's DRBG, reported as secure.
 */
class NoiseSourceTest {

    @Test
    void blockPolarTransform_hasStandardNormalMoments() {
        NoiseSource noise = NoiseSource.blocksOf(new Random(20261205L));
        int n = 1_000_000;
        double[] z = noise.gaussians(n);
        double m1 = 0;
        double m2 = 0;
        double m4 = 0;
        int within1 = 0;
        int within3 = 0;
        for (double v : z) {
            m1 += v;
            m2 += v * v;
            m4 += v * v * v * v;
            within1 += Math.abs(v) < 1 ? 1 : 0;
            within3 += Math.abs(v) < 3 ? 1 : 0;
        }
        m1 /= n;
        m2 /= n;
        m4 /= n;
        assertThat(m1).isBetween(-5 / Math.sqrt(n), 5 / Math.sqrt(n));
        assertThat(m2).isBetween(1 - 5 * Math.sqrt(2.0 / n), 1 + 5 * Math.sqrt(2.0 / n));
        assertThat(m4).isBetween(3 - 5 * Math.sqrt(96.0 / n), 3 + 5 * Math.sqrt(96.0 / n));
        double p1 = 0.6826894921370859;
        double p3 = 0.9973002039367398;
        assertThat((double) within1 / n).isBetween(p1 - 5 * Math.sqrt(p1 * (1 - p1) / n),
                p1 + 5 * Math.sqrt(p1 * (1 - p1) / n));
        assertThat((double) within3 / n).isBetween(p3 - 5 * Math.sqrt(p3 * (1 - p3) / n),
                p3 + 5 * Math.sqrt(p3 * (1 - p3) / n));
    }

    @Test
    void blockPolarTransform_isTheSeededStreamsPolarPairs() {
        // The first pair by hand from the same bytes: two 53-bit uniforms per attempt, the polar formula.
        Random bytes = new Random(7);
        byte[] block = new byte[8192];
        bytes.nextBytes(block);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(block);
        double v1;
        double v2;
        double s;
        do {
            v1 = 2 * ((b.getLong() >>> 11) * 0x1.0p-53) - 1;
            v2 = 2 * ((b.getLong() >>> 11) * 0x1.0p-53) - 1;
            s = v1 * v1 + v2 * v2;
        } while (s >= 1 || s == 0);
        double m = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
        NoiseSource noise = NoiseSource.blocksOf(new Random(7));
        assertThat(noise.nextGaussian()).isEqualTo(v1 * m);
        assertThat(noise.nextGaussian()).isEqualTo(v2 * m);
    }

    @Test
    void secureDefault_isDrbgAndSecure() {
        NoiseSource noise = NoiseSource.secure();
        assertThat(noise.isSecure()).isTrue();
        assertThat(noise.description()).startsWith("SecureRandom (").contains("DRBG");
        double[] z = noise.gaussians(20_000);   // more than one 8 KiB block
        assertThat(java.util.Arrays.stream(z).allMatch(Double::isFinite)).isTrue();
        assertThat(java.util.Arrays.stream(z).distinct().count()).isEqualTo(20_000);
    }
}
