package org.dl4jclipping.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.examples.ExamplesTest.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.dl4jclipping.examples.ExamplesTest.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A missing or malformed file, or a bad option: exit code 2, one message naming path and line, no stack trace. */
class ErrorPathsTest {

    @TempDir
    Path tmp;

    private static void assertUserError(Result r, String... fragments) {
        assertThat(r.code()).as("out:%n%s%nerr:%n%s", r.out(), r.err()).isEqualTo(2);
        assertThat(r.err()).contains(fragments).doesNotContain("Exception", "\tat ");
    }

    @Test
    void missingTextFile() {
        Path missing = tmp.resolve("no-such.txt");
        assertUserError(run("char-lm", "--data", missing.toString(), "--no-progress", "--out", tmp.toString()),
                missing.toString(), "no such file");
    }

    @Test
    void missingCsvFile() {
        Path missing = tmp.resolve("nothing.csv");
        assertUserError(run("forecast", "--data", missing.toString(), "--out", tmp.toString()), missing.toString());
    }

    @Test
    void malformedCsvNamesTheLine() throws IOException {
        Path bad = tmp.resolve("bad.csv");
        Files.writeString(bad, "month,passengers\n1949-01,112\n1949-02,11x8\n1949-03,132\n");
        assertUserError(run("forecast", "--data", bad.toString(), "--column", "passengers", "--out", tmp.toString()),
                bad + ":3", "'11x8'", "not a number");
    }

    @Test
    void csvLineWithTooFewFields() throws IOException {
        Path bad = tmp.resolve("short.csv");
        Files.writeString(bad, "month,passengers\n1949-01,112\n1949-02\n");
        assertUserError(run("forecast", "--data", bad.toString(), "--out", tmp.toString()), bad + ":3", "1 fields");
    }

    @Test
    void unknownColumnNamesTheHeader() throws IOException {
        Path csv = tmp.resolve("ok.csv");
        Files.writeString(csv, "month,passengers\n1949-01,112\n");
        assertUserError(run("forecast", "--data", csv.toString(), "--column", "riders", "--out", tmp.toString()),
                csv + ":1", "no column 'riders'", "passengers");
    }

    @Test
    void malformedClassifyFile() throws IOException {
        Path bad = tmp.resolve("series.csv");
        Files.writeString(bad, "a,1,2,3\nb,1,oops,3\n");
        assertUserError(run("classify", "--data", bad.toString(), "--out", tmp.toString()), bad + ":2", "'oops'");
    }

    @Test
    void agcNowWorks() throws IOException {
        Path dir = tmp.resolve("agc");
        Result r = run("classify", "--clip", "skip-nonfinite,agc:0.05", "--steps", "6", "--per-class", "4",
                "--hidden", "8", "--no-progress", "--out", dir.toString());
        assertThat(r.code()).as("out:%n%s%nerr:%n%s", r.out(), r.err()).isZero();
        assertThat(r.out()).contains("agc:0.05");
        assertThat(dir.resolve("metrics.csv")).isNotEmptyFile();
    }

    @Test
    void unknownStrategyListsTheKnownOnes() {
        assertUserError(run("char-lm", "--clip", "agc2:0.01", "--out", tmp.toString()),
                "unknown strategy 'agc2'", "agc", "autoclip", "zclip");
        assertUserError(run("lr-sweep", "--clip", "skip-nonfinite,bogus", "--out", tmp.toString()),
                "unknown strategy 'bogus'");
    }

    @Test
    void badClipSpecs() {
        assertUserError(run("classify", "--clip", "global-norm", "--out", tmp.toString()), "needs a number");
        assertUserError(run("classify", "--clip", "clamp:1", "--out", tmp.toString()), "unknown strategy 'clamp'");
        assertUserError(run("classify", "--clip", "value:-1", "--out", tmp.toString()), "value:-1");
    }

    @Test
    void badCellIsAUsageError() {
        Result r = run("char-lm", "--cell", "rnn");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--cell");
    }
}
