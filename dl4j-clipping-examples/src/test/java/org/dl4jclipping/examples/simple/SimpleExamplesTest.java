package org.dl4jclipping.examples.simple;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The programs to copy: each runs top to bottom with a small budget, prints what it promises, and stays a
 * short single file (under 120 lines, the bound).
 */
class SimpleExamplesTest {

    interface Main {
        void run(String[] args) throws Exception;
    }

    private static String output(Main main, String... args) throws Exception {
        PrintStream previous = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            main.run(args);
        } finally {
            System.setOut(previous);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("%s in%n%s", regex, text).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void quickStart_clipsTheEarlyStepsAndLearnsTheRing() throws Exception {
        String out = output(QuickStart::main, "200");
        // Early gradients of this MLP exceed 1.0 (so some steps clip), and 200 full-batch Adam steps separate the
        // ring from the rest far better than the 72% a constant answer gets.
        assertThat(number(out, "(\\d+) of 200 steps clipped")).isGreaterThan(0);
        assertThat(number(out, "training accuracy: ([0-9.]+)%")).isGreaterThan(85.0);
    }

    @Test
    void lstmTimeSeries_beatsTheNaiveForecastWithMaskedTbpttSegments() throws Exception {
        String out = output(LstmTimeSeriesExample::main, "20");
        double before = number(out, "test MSE before training: ([0-9.]+)");
        double after = number(out, "epoch 20: test MSE ([0-9.]+)");
        assertThat(after).isLessThan(before / 2);
        // 20 epochs x 4 segments of 30 steps (sequences padded to 120): one update per segment
        assertThat(number(out, "(\\d+) updates \\(segments of 30 steps\\)")).isEqualTo(80);
    }

    @Test
    void charLstm_reportsBitsPerCharacterAndASample() throws Exception {
        String out = output(CharLstmExample::main, "3");
        double bits = number(out, "step 3: ([0-9.]+) bits/char");
        // after 3 steps the model is still near the uniform code length, log2(65) = 6.02 bits
        assertThat(bits).isBetween(4.0, 6.5);
        assertThat(out).contains("ROMEO:");
    }

    @Test
    void kerasGruFineTune_clipsTheFirstStepsWithTheFileClipnormAndBeatsTheNaiveForecast() throws Exception {
        String out = output(KerasGruFineTune::main, "150");
        // the file's clipnorm=5 of Keras 2.0.9 arrives as a global norm; the new head's first gradients exceed it
        assertThat(out).contains("clipnorm=5.0 from Keras 2.0.9").contains("Clip.globalNorm(5.0)");
        assertThat(number(out, "(\\d+) of 150 steps clipped")).isBetween(1.0, 20.0);
        assertThat(number(out, "step   0: global norm +[0-9.]+ -> +([0-9.]+)")).isEqualTo(5.0);
        // 150 Adam steps forecast the two-tone series far better than repeating the last value (0.098)
        double naive = number(out, "naive forecast, the last value: ([0-9.]+)");
        assertThat(number(out, "epoch 150: test MSE ([0-9.]+)")).isLessThan(naive / 3);
    }

    @Test
    void privateSequenceClassifier_learnsWithinEpsilonThree() throws Exception {
        String out = output(PrivateSequenceClassifier::main, "4", "11");
        // q = 30/900, 4 epochs of 30 steps; the calibration leaves epsilon at most 3 and within its 0.01 tolerance
        assertThat(out).contains("(q 0.0333, 120 steps)").contains("NOT private");
        assertThat(number(out, "epsilon spent ([0-9.]+) at delta 1e-04")).isBetween(2.99, 3.0);
        // seed 11 reached 88.0% (chance 33.3%): rising, falling and oscillating series are learned through the noise
        assertThat(number(out, "held-out accuracy: ([0-9.]+)%")).isGreaterThan(70.0);
    }

    @Test
    void eachProgramIsOneShortFile() throws Exception {
        for (String name : new String[] {"QuickStart", "LstmTimeSeriesExample", "CharLstmExample",
            "KerasGruFineTune", "PrivateSequenceClassifier"}) {
            Path file = Path.of("src/main/java/org/dl4jclipping/examples/simple", name + ".java");
            assertThat(Files.readAllLines(file).size()).as(name).isLessThan(120);
        }
    }
}
