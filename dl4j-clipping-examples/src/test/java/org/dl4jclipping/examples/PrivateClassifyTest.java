package org.dl4jclipping.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.examples.ExamplesTest.ok;
import static org.dl4jclipping.examples.ExamplesTest.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dl4jclipping.examples.ExamplesTest.Result;
import org.dl4jclipping.privacy.PrivacyAccountant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code classify --private}: DP-SGD learns within the target epsilon, the noise is calibrated from the run's own
 * {@code q}, steps and delta, the noise source is stated, and bad privacy options are refused naming option, value
 * and range.
 */
class PrivateClassifyTest {

    @TempDir
    Path tmp;

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("%s in%n%s", regex, text).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static void assertUserError(Result r, String... fragments) {
        assertThat(r.code()).as("out:%n%s%nerr:%n%s", r.out(), r.err()).isEqualTo(2);
        assertThat(r.err()).contains(fragments).doesNotContain("Exception", "\tat ");
    }

    @Test
    void quickPrivateRunLearnsWithinTheTargetEpsilon() throws IOException {
        Path dir = tmp.resolve("private");
        Result r = ok("classify", "--private", "--quick", "--reproducible-noise", "--no-progress", "--out",
                dir.toString());
        String out = r.out();
        // --quick: 100 series per class, N = 600, batch 32: q = 32/600, floor(1/q) = 18 steps per epoch; the usual
        // 150 quick steps are 8 epochs (150 / 18 = 8.3), 144 steps; default delta 1e-4 (1/(10 N) = 1.7e-4)
        double q = 32.0 / 600;
        assertThat(out).contains("q = 32/600 = 0.05333, 8 epochs of 18 steps = 144 steps");
        double sigma = PrivacyAccountant.noiseMultiplier(8.0, 1e-4, q, 144);
        assertThat(number(out, "sigma ([0-9.]+), q 0.05333, 144 steps, C 1")).isCloseTo(sigma,
                org.assertj.core.data.Offset.offset(5e-5));
        // all 144 steps run: the calibration leaves epsilon at most the target and within its 0.01 tolerance
        assertThat(number(out, "epsilon spent ([0-9.]+) at delta 0.0001 \\(target 8\\)")).isBetween(7.99, 8.0);
        assertThat(out).contains("epoch 8/8: held-out loss").contains("NOT private");
        // seed 42 reached 87.3% (chance 16.7%); half of that still shows learning through the noise
        assertThat(number(out, "held-out accuracy: ([0-9.]+)%")).isGreaterThan(40.0);
        List<String> steps = Files.readAllLines(dir.resolve("dp-steps.csv"));
        assertThat(steps.get(0)).isEqualTo("step,batch,expected_batch,mean_norm,max_norm,fraction_clipped,noise_std,"
                + "epsilon");
        assertThat(steps).hasSize(1 + 144);
        // the same per-step report as the non-private runs: header, then one row per step, 2 layers before/after
        List<String> clipping = Files.readAllLines(dir.resolve("clipping.csv"));
        assertThat(clipping).hasSize(1 + 144);
        assertThat(clipping.get(0)).startsWith("iteration,norm_before,norm_after,min_scale,clipped,")
                .contains("before:", "after:");
        assertThat(Files.readAllLines(dir.resolve("confusion.csv"))).hasSize(7);
    }

    @Test
    void noiseIsSecureUnlessReproducibleNoiseIsAsked() {
        // N = 60 (10 per class), batch 32: q = 32/60, one step per epoch; delta 1/(10 N) = 1.7e-3 -> 1e-3
        Result r = ok("classify", "--private", "--per-class", "10", "--hidden", "4", "--epochs", "2",
                "--epsilon", "3", "--no-progress", "--out", tmp.toString());
        assertThat(r.out()).contains("2 epochs of 1 steps = 2 steps", "at delta 0.001 (target 3)",
                "noise and sampling: SecureRandom").doesNotContain("NOT private");
        assertThat(number(r.out(), "epsilon spent ([0-9.]+)")).isBetween(2.99, 3.0);
    }

    @Test
    void badPrivacyOptionsAreRefusedWithOptionValueAndRange() {
        String o = tmp.toString();
        assertUserError(run("classify", "--private", "--epsilon", "0", "--out", o), "--epsilon 0.0", "> 0");
        assertUserError(run("classify", "--private", "--epsilon", "-1", "--out", o), "--epsilon -1.0", "> 0");
        assertUserError(run("classify", "--private", "--delta", "1", "--out", o), "--delta 1.0", "(0, 1)");
        assertUserError(run("classify", "--private", "--delta", "0", "--out", o), "--delta 0.0", "(0, 1)");
        assertUserError(run("classify", "--private", "--max-grad-norm", "0", "--out", o), "--max-grad-norm 0.0",
                "> 0");
        assertUserError(run("classify", "--private", "--epochs", "0", "--out", o), "--epochs 0", ">= 1");
        // N = 60: 1/N = 0.0167, so delta 0.05 is refused (the default would be 1e-3)
        assertUserError(run("classify", "--private", "--per-class", "10", "--delta", "0.05", "--out", o),
                "--delta 0.05", "below 1/N = 0.0167 for N = 60", "default is 1e-03");
        assertUserError(run("classify", "--private", "--per-class", "2", "--out", o), "--batch 32",
                "training set (12 series)");
        assertUserError(run("classify", "--private", "--epsilon", "1e-9", "--per-class", "10", "--out", o),
                "--epsilon 1.0E-9 cannot be reached");
        assertUserError(run("classify", "--epsilon", "3", "--out", o), "--epsilon needs --private");
        assertUserError(run("classify", "--reproducible-noise", "--out", o), "--reproducible-noise needs --private");
        assertUserError(run("classify", "--private", "--clip", "none", "--out", o), "--clip does not apply");
        assertUserError(run("classify", "--private", "--advise", "--out", o), "--advise does not apply");
    }
}
