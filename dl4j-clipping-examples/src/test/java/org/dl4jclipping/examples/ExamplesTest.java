package org.dl4jclipping.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every program's {@code --quick} path, with even smaller budgets through the hidden {@code --steps} and size
 * options: exit code 0, the loss falls, metrics.csv and the charts exist.
 */
class ExamplesTest {

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static Result ok(String... args) {
        Result r = run(args);
        assertThat(r.code()).as("exit code; out:%n%s%nerr:%n%s", r.out(), r.err()).isZero();
        return r;
    }

    /** Mean of the first and of the last {@code n} values of the {@code loss} column. */
    static double[] firstAndLastLoss(Path metrics, int n) throws IOException {
        List<String> lines = Files.readAllLines(metrics);
        assertThat(lines.get(0)).isEqualTo("step,loss,grad_norm_before,grad_norm_after,clipped,skipped");
        double[] loss = lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
        assertThat(loss.length).isGreaterThanOrEqualTo(2 * n);
        return new double[] {Arrays.stream(loss, 0, n).average().orElseThrow(),
                Arrays.stream(loss, loss.length - n, loss.length).average().orElseThrow()};
    }

    static void assertLearnsAndWrites(Path dir, String... charts) throws IOException {
        double[] fl = firstAndLastLoss(dir.resolve("metrics.csv"), 5);
        assertThat(fl[1]).as("loss falls: first steps %s, last steps %s", fl[0], fl[1]).isLessThan(fl[0]);
        for (String c : charts) {
            assertThat(dir.resolve(c)).isNotEmptyFile();
            assertThat(Files.readAllBytes(dir.resolve(c))).startsWith(0x89, 'P', 'N', 'G');
        }
    }

    @Test
    void charLmWithGruLearnsSamplesAndReportsBitsPerCharacter() throws IOException {
        Path dir = tmp.resolve("char-lm");
        Result r = ok("char-lm", "--quick", "--cell", "gru", "--steps", "30", "--hidden", "24", "--seq-length", "20",
                "--batch", "16", "--no-progress", "--out", dir.toString());
        assertThat(r.out()).contains("GRU(24)", "sample:", "held-out loss (last 10% of the text):", "bits/char",
                dir.resolve("loss.png").toString());
        assertLearnsAndWrites(dir, "loss.png", "grad-norm.png");
        assertThat(dir.resolve("clipping.csv")).isNotEmptyFile();
    }

    /**
     * A run of 8 steps interrupted after 4 and resumed ends with exactly the parameters and updater state (which holds
     * AutoClip's history) of a run of 8 steps in one go, and its metrics.csv has all 8 steps: the learning-rate
     * schedule (cosine over the 8 steps, the default) continues where it stopped.
     */
    @Test
    void charLmResumedFromACheckpoint_continuesBitIdentically() throws IOException {
        String[] common = {"char-lm", "--clip", "skip-nonfinite,autoclip:50", "--hidden", "16", "--seq-length", "12",
                "--batch", "4", "--no-progress"};
        Path straight = tmp.resolve("straight");
        Path split = tmp.resolve("split");
        ok(concat(common, "--steps", "8", "--out", straight.toString()));
        ok(concat(common, "--steps", "8", "--stop-after", "4", "--out", split.toString()));
        Result resumed = ok(concat(common, "--steps", "8", "--resume", split.toString(), "--out", split.toString()));
        assertThat(resumed.out()).contains("resumed at step 4");

        var a = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(
                straight.resolve(Checkpoint.MODEL).toFile(), true);
        var b = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(
                split.resolve(Checkpoint.MODEL).toFile(), true);
        assertThat(b.params()).isEqualTo(a.params());
        assertThat(b.getUpdater().getStateViewArray()).isEqualTo(a.getUpdater().getStateViewArray());
        assertThat(b.getIterationCount()).isEqualTo(8);
        assertThat(Files.readAllLines(split.resolve("metrics.csv"))).hasSize(9)
                .isEqualTo(Files.readAllLines(straight.resolve("metrics.csv")));
    }

    @Test
    void charLmResume_withoutACheckpoint_saysWhatIsMissing() {
        Result r = run("char-lm", "--steps", "2", "--resume", tmp.resolve("nothing").toString(), "--no-progress");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--resume", "no checkpoint.state there");
    }

    /** --dropout 0.2 puts DL4J's dropout (retain probability 0.8) on every layer but the first, and trains. */
    @Test
    void charLmDropout_reachesEveryLayerButTheFirst() throws IOException {
        Path dir = tmp.resolve("dropout");
        ok("char-lm", "--dropout", "0.2", "--steps", "2", "--hidden", "8", "--seq-length", "10", "--batch", "4",
                "--no-progress", "--out", dir.toString());
        var net = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(
                dir.resolve(Checkpoint.MODEL).toFile(), false);
        assertThat(net.getLayerWiseConfigurations().getConf(0).getLayer().getIDropout()).isNull();
        for (int i = 1; i < net.getnLayers(); i++) {
            var d = net.getLayerWiseConfigurations().getConf(i).getLayer().getIDropout();
            assertThat(d).isInstanceOf(org.deeplearning4j.nn.conf.dropout.Dropout.class);
            assertThat(((org.deeplearning4j.nn.conf.dropout.Dropout) d).getP()).isCloseTo(0.8,
                    org.assertj.core.api.Assertions.within(1e-12));
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void charLmOnTheUsersTextWithoutClipping() throws IOException {
        Path text = tmp.resolve("mine.txt");
        Files.writeString(text, "abcabcabd ".repeat(300));
        Path dir = tmp.resolve("mine");
        Result r = ok("char-lm", "--data", text.toString(), "--clip", "none", "--steps", "30", "--hidden", "16",
                "--seq-length", "20", "--batch", "8", "--no-progress", "--out", dir.toString());
        assertThat(r.out()).contains(text.toString(), "vocabulary 5", "clip none");
        assertLearnsAndWrites(dir, "loss.png", "grad-norm.png");
        assertThat(dir.resolve("clipping.csv")).doesNotExist();
    }

    @Test
    void forecastAirlineReportsRmseBesideSeasonalNaive() throws IOException {
        Path dir = tmp.resolve("forecast");
        Result r = ok("forecast", "--quick", "--steps", "40", "--hidden", "12", "--no-progress", "--out",
                dir.toString());
        assertThat(r.out()).contains("held-out RMSE over the last 24", "seasonal naive (value 12 steps before)");
        assertLearnsAndWrites(dir, "loss.png", "grad-norm.png", "forecast.png");
        assertThat(Files.readAllLines(dir.resolve("forecast.csv"))).hasSize(145);
    }

    @Test
    void forecastMackeyGlass() throws IOException {
        Path dir = tmp.resolve("mg");
        Result r = ok("forecast", "--series", "mackey-glass", "--quick", "--steps", "30", "--hidden", "12",
                "--cell", "gru", "--no-progress", "--out", dir.toString());
        assertThat(r.out()).contains("Mackey-Glass (tau = 17)", "naive (last value)");
        assertLearnsAndWrites(dir, "forecast.png");
    }

    @Test
    void mackeyGlassIsTheChaoticTau17Series() {
        double[] x = ForecastCommand.mackeyGlass(500, 17);
        double min = Arrays.stream(x).min().orElseThrow();
        double max = Arrays.stream(x).max().orElseThrow();
        assertThat(min).isBetween(0.2, 0.6);   // the tau = 17 attractor lies roughly in [0.4, 1.35]
        assertThat(max).isBetween(1.1, 1.5);
    }

    @Test
    void classifyReportsAccuracyAndConfusionMatrix() throws IOException {
        Path dir = tmp.resolve("classify");
        Result r = ok("classify", "--quick", "--steps", "40", "--per-class", "20", "--hidden", "12", "--no-progress",
                "--out", dir.toString());
        assertThat(r.out()).contains("held-out accuracy:", "confusion matrix", "downward shift");
        assertLearnsAndWrites(dir, "loss.png", "grad-norm.png");
        assertThat(Files.readAllLines(dir.resolve("confusion.csv"))).hasSize(7);
    }

    @Test
    void controlChartClassesFollowTheirFormulas() {
        java.util.Random r = new java.util.Random(1);
        double[] up = ClassifyCommand.series(2, r);
        double[] down = ClassifyCommand.series(3, r);
        assertThat(up).hasSize(60);
        assertThat(mean(up, 50, 60) - mean(up, 0, 10)).isGreaterThan(5);     // g >= 0.2 over 50 steps
        assertThat(mean(down, 50, 60) - mean(down, 0, 10)).isLessThan(-5);
        double[] normal = ClassifyCommand.series(0, r);
        assertThat(Arrays.stream(normal).allMatch(v -> v >= 24 && v <= 36)).isTrue();   // m +- 3 s
    }

    private static double mean(double[] a, int from, int to) {
        return Arrays.stream(a, from, to).average().orElseThrow();
    }

    @Test
    void lrSweepComparesFourStrategies() throws IOException {
        Path dir = tmp.resolve("sweep");
        Result r = ok("lr-sweep", "--quick", "--steps", "10", "--points", "3", "--hidden", "12", "--seq-length", "16",
                "--batch", "8", "--no-progress", "--out", dir.toString());
        assertThat(r.out()).contains("| none |", "| global-norm:1.0 |", "| value:0.1 |", "| agc:0.05 |")
                .doesNotContain("not available");
        assertThat(dir.resolve("lr-sweep.png")).isNotEmptyFile();
        List<String> sweep = Files.readAllLines(dir.resolve("sweep.csv"));
        assertThat(sweep).hasSize(1 + 4 * 3);
        // some run that did not diverge learned: its final loss is below its start
        assertThat(sweep.stream().skip(1).map(l -> l.split(",")).filter(f -> f[4].equals("false"))
                .anyMatch(f -> Double.parseDouble(f[3]) < Double.parseDouble(f[2]))).isTrue();
        assertThat(Files.readAllLines(dir.resolve("metrics.csv")).get(0))
                .isEqualTo("strategy,lr,step,loss,grad_norm_before,grad_norm_after,clipped,skipped");
    }

    /**
     * The full grid is 3 rates per decade from 1e-3 (1, 2.15, 4.64 x 10^k): with --lr-max 0.05 and Adam that is
     * 1e-3, 2.15e-3, 4.64e-3, 0.01, 0.0215, 0.0464; the table has the stable range against no clipping.
     */
    @Test
    void lrSweepWithAdam_usesThreeRatesPerDecadeAndComparesStableRanges() throws IOException {
        Path dir = tmp.resolve("sweep-adam");
        Result r = ok("lr-sweep", "--optimizer", "adam", "--lr-max", "0.05", "--strategies", "global-norm:1.0",
                "--steps", "4", "--hidden", "8", "--seq-length", "12", "--batch", "4", "--no-progress", "--out",
                dir.toString());
        assertThat(r.out()).contains("Adam, 4 steps per run", "learning rates: 6 on a log grid from 0.00100 to 0.0464",
                "stable range vs none", "| none |", "| global-norm:1.0 |",
                "rates: 0.00100, 0.00215, 0.00464, 0.0100, 0.0215, 0.0464");
        assertThat(Files.readAllLines(dir.resolve("sweep.csv"))).hasSize(1 + 2 * 6);
    }

    /** "none" is always the sweep's first strategy; naming it in --strategies crashed the chart (duplicate series). */
    @Test
    void lrSweepStrategiesNamingNone_runsNoneOnce() throws IOException {
        Path dir = tmp.resolve("sweep-none");
        Result r = ok("lr-sweep", "--strategies", "none;value:0.1;value:0.1", "--points", "2", "--lr-max", "0.01",
                "--steps", "3", "--hidden", "8", "--seq-length", "12", "--batch", "4", "--no-progress", "--out",
                dir.toString());
        assertThat(r.out()).contains("strategies: none, value:0.1\n");
        assertThat(Files.readAllLines(dir.resolve("sweep.csv"))).hasSize(1 + 2 * 2);
        assertThat(dir.resolve("lr-sweep.png")).isNotEmptyFile();
    }

    @Test
    void advisePrintsTheThresholdTableAfterTheWarmUp() {
        Path dir = tmp.resolve("advise");
        Result r = ok("classify", "--advise=4", "--clip", "none", "--steps", "6", "--per-class", "4", "--hidden", "8",
                "--no-progress", "--out", dir.toString());
        assertThat(r.out()).contains("threshold advice after 4 warm-up steps", "recommended global norm (2 x median)",
                "recommended value threshold", "share of squared global norm", "reasoning:");
        assertThat(r.out().indexOf("threshold advice")).isLessThan(r.out().indexOf("held-out accuracy:"));
    }

    @Test
    void adviseDefaultsToTheWholeRunWhenShorter() {
        Result r = ok("char-lm", "--advise", "--steps", "3", "--hidden", "8", "--seq-length", "12", "--batch", "4",
                "--no-progress", "--out", tmp.resolve("advise-lm").toString());
        assertThat(r.out()).contains("threshold advice after 3 warm-up steps", "recommended global norm");
    }

    @Test
    void demoIsASubCommand() {
        assertThat(run("demo", "--help").code()).isZero();
    }
}
