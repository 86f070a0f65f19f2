package org.dl4jclipping.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Without a terminal (as under Maven, CI or a log file) progress is one plain line at every 10%. */
class ProgressTest {

    private static String stderrOf(Runnable r) {
        PrintStream previous = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(previous);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withoutATerminal_printsOneLinePerTenthAndNoCarriageReturns() {
        assertThat(System.console()).as("the test runs without a terminal").isNull();
        String err = stderrOf(() -> {
            try (Progress p = new Progress("task", 200, 0, true)) {
                for (int i = 0; i < 200; i++) {
                    p.step("loss " + i);
                }
            }
        });
        assertThat(err).doesNotContain("\r");
        assertThat(err.lines()).hasSize(10).first().isEqualTo("task: 10% (20/200), loss 19");
        assertThat(err.lines()).last().isEqualTo("task: 100% (200/200), loss 199");
    }

    @Test
    void resumedOrTimed_startsFromWhatIsDone_andCountsUnitsNotCalls() {
        String err = stderrOf(() -> {
            try (Progress p = new Progress("char-lm", 1800, 900, true)) {
                p.stepTo(1000, "a");
                p.stepTo(1100, "b");
            }
        });
        assertThat(err.lines()).containsExactly("char-lm: 60% (1100/1800), b");
    }

    @Test
    void disabled_printsNothing() {
        assertThat(stderrOf(() -> {
            try (Progress p = new Progress("x", 10, 0, false)) {
                p.step("y");
            }
        })).isEmpty();
    }
}
