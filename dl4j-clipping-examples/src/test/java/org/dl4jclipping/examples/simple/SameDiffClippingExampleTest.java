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

/** The SameDiff example runs top to bottom, clips its early steps, learns the ring, and stays one short file. */
class SameDiffClippingExampleTest {

    @Test
    void clipsTheEarlyStepsAndLearnsTheRing() throws Exception {
        PrintStream previous = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            SameDiffClippingExample.main(new String[] {"200"});
        } finally {
            System.setOut(previous);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        // The first gradients of this MLP have a global norm well above 0.1 (so those steps clip), and 200
        // full-batch Adam steps separate the ring far better than the 72% a constant answer gets.
        assertThat(number(out, "(\\d+) of 200 steps clipped")).isGreaterThan(0);
        assertThat(number(out, "training accuracy: ([0-9.]+)%")).isGreaterThan(85.0);
        assertThat(Files.readAllLines(Path.of("src/main/java/org/dl4jclipping/examples/simple",
                "SameDiffClippingExample.java")).size()).isLessThan(120);
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("%s in%n%s", regex, text).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
