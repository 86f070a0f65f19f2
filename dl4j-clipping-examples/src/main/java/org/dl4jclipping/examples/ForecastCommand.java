package org.dl4jclipping.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * One-step-ahead forecasting: airline passengers (held-out last 24 months, against the seasonal-naive forecast) or
 * a Mackey-Glass series (tau = 17, against the naive last-value forecast), or a column of the user's CSV.
 *
 * <p>The network reads, at month t, the level {@code v_t} (log of the value when every value is positive), the
 * change {@code d_t = v_t - v_(t-1)} and, with a season s, the change a season earlier {@code d_(t+1-s)}; it
 * predicts {@code d_(t+1)}. All standardised with training statistics. The forecast is {@code v_t + d_(t+1)},
 * each month from the true history (one step ahead).
 */
@Command(name = "forecast", mixinStandardHelpOptions = true,
        description = {"One-step-ahead forecasting of airline passengers (last 24 months held out, RMSE beside the "
                + "seasonal-naive forecast) or of a Mackey-Glass series (--series mackey-glass).",
                "Your own series: --data FILE.csv --column NAME."})
final class ForecastCommand extends ExampleCommand {

    @Mixin
    AdviseOption advise = new AdviseOption();

    enum Series {
        AIRLINE, MACKEY_GLASS;
    }

    @Option(names = "--series", paramLabel = "airline|mackey-glass", defaultValue = "airline",
            converter = SeriesConverter.class, description = "Bundled series (ignored with --data). Default: airline.")
    Series series;

    @Option(names = "--column", paramLabel = "NAME", description = "CSV column to forecast (default: the last).")
    String column;

    @Option(names = "--test", description = "Held-out points at the end (default: 24 airline or --data, 200 Mackey-Glass).")
    Integer test;

    @Option(names = "--season", description = "Season length, 0 for none (default: 12, 0 for Mackey-Glass).")
    Integer season;

    @Option(names = "--hidden", description = "Recurrent units (default 32).")
    Integer hidden;

    static final class SeriesConverter implements picocli.CommandLine.ITypeConverter<Series> {
        @Override
        public Series convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "airline" -> Series.AIRLINE;
                case "mackey-glass", "mackey_glass", "mg" -> Series.MACKEY_GLASS;
                default -> throw new picocli.CommandLine.TypeConversionException(
                        "'" + value + "' is not a series: airline or mackey-glass");
            };
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        boolean mg = data == null && series == Series.MACKEY_GLASS;
        String name;
        double[] y;
        if (data != null) {
            y = Data.csvColumn(Data.lines(data), column);
            name = data + (column == null ? "" : " column " + column);
        } else if (mg) {
            y = mackeyGlass(quick ? 1000 : 2000, 17);
            name = "Mackey-Glass (tau = 17)";
        } else {
            y = Data.csvColumn(Data.resource("/data/airline-passengers.csv"), column == null ? "passengers" : column);
            name = "airline passengers (thousands per month, 1949-1960)";
        }
        int s = season != null ? season : mg ? 0 : 12;
        int nTest = test != null ? test : mg ? 200 : 24;
        int t0 = Math.max(1, s);            // first month with all features
        int minTrain = t0 + 24;
        if (y.length < nTest + minTrain) {
            throw new UserError((data != null ? data.toString() : name) + ": " + y.length + " values; need at least "
                    + (nTest + minTrain) + " (" + nTest + " held out, " + minTrain + " to train with season " + s + ")");
        }
        boolean log = java.util.Arrays.stream(y).allMatch(v -> v > 0);
        int n = y.length;
        int nTrain = n - nTest;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = log ? Math.log(y[i]) : y[i];
        }
        double[] d = new double[n];
        for (int i = 1; i < n; i++) {
            d[i] = v[i] - v[i - 1];
        }
        double[] lv = stats(v, 0, nTrain);
        double[] ld = stats(d, 1, nTrain);
        int features = s > 0 ? 3 : 2;
        // inputs at positions t = t0 .. n-2 predict d[t+1]; position p = t - t0
        int positions = n - 1 - t0;
        float[][] x = new float[features][positions];
        float[] target = new float[positions];
        for (int p = 0; p < positions; p++) {
            int t = p + t0;
            x[0][p] = (float) ((v[t] - lv[0]) / lv[1]);
            x[1][p] = (float) ((d[t] - ld[0]) / ld[1]);
            if (s > 0) {
                x[2][p] = (float) ((d[t + 1 - s] - ld[0]) / ld[1]);
            }
            target[p] = (float) ((d[t + 1] - ld[0]) / ld[1]);
        }
        int trainPositions = nTrain - 1 - t0;   // targets up to index nTrain-1
        int window = Math.min(mg ? 50 : 36, trainPositions);
        int batch = 16;
        int h = hidden != null ? hidden : 32;
        int nSteps = steps(mg ? 120 : 150, 1500);
        double rate = lr(1e-2);
        ClipSpec clipSpec = clipSpec();
        out.printf(Locale.ROOT, "forecast: %s, %d values, last %d held out; %s(%d), Adam(%g), clip %s, %d steps%n",
                name, n, nTest, cell, h, rate, clipSpec, nSteps);
        out.printf(Locale.ROOT, "inputs: level%s, change, %s; target: next change%n", log ? " (log)" : "",
                s > 0 ? "change " + s + " steps earlier" : "no season");
        out.flush();

        StepLog stepLog = new StepLog(nSteps);
        MultiLayerNetwork net = Networks.timeSeriesForecaster(setup(new Adam(rate)), features, h, stepLog);
        Random random = new Random(seed);
        try (Progress progress = progress("forecast", nSteps)) {
            for (int step = 1; step <= nSteps; step++) {
                float[] bx = new float[batch * features * window];
                float[] by = new float[batch * window];
                for (int b = 0; b < batch; b++) {
                    int start = random.nextInt(trainPositions - window + 1);
                    for (int f = 0; f < features; f++) {
                        System.arraycopy(x[f], start, bx, (b * features + f) * window, window);
                    }
                    System.arraycopy(target, start, by, b * window, window);
                }
                DataSet ds = new DataSet(Nd4j.create(bx, new long[] {batch, features, window}, 'c'),
                        Nd4j.create(by, new long[] {batch, 1, window}, 'c'));
                StepLog.Row row = fit(net, ds, stepLog, window, out);
                if (row == null) {
                    break;
                }
                advise.afterStep(step, nSteps, stepLog, net, out);
                progress.step(String.format(Locale.ROOT, "loss %.4f", row.loss()));
            }
        }

        // one step ahead over the whole series, from the true history
        float[] all = new float[features * positions];
        for (int f = 0; f < features; f++) {
            System.arraycopy(x[f], 0, all, f * positions, positions);
        }
        INDArray pred = net.output(Nd4j.create(all, new long[] {1, features, positions}, 'c'), false);
        float[] dz = pred.dup('c').data().asFloat();
        double[] forecast = new double[n];
        double[] baseline = new double[n];
        java.util.Arrays.fill(forecast, Double.NaN);
        java.util.Arrays.fill(baseline, Double.NaN);
        double se = 0;
        double seBase = 0;
        double seTrain = 0;
        int nFit = 0;
        for (int p = 0; p < positions; p++) {
            int t = p + t0;
            double vNext = v[t] + dz[p] * ld[1] + ld[0];
            forecast[t + 1] = log ? Math.exp(vNext) : vNext;
            baseline[t + 1] = s > 0 && t + 1 - s >= 0 ? y[t + 1 - s] : y[t];
            if (t + 1 >= nTrain) {
                se += sq(forecast[t + 1] - y[t + 1]);
                seBase += sq(baseline[t + 1] - y[t + 1]);
            } else {
                seTrain += sq(forecast[t + 1] - y[t + 1]);
                nFit++;
            }
        }
        double rmse = Math.sqrt(se / nTest);
        double rmseBase = Math.sqrt(seBase / nTest);
        Path dir = outDir();
        writeTrainingOutputs(stepLog, "training loss (MSE, standardised change)");
        writeForecast(dir.resolve("forecast.csv"), y, forecast, baseline, nTrain);
        double[] idx = new double[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        double[] fc = new double[n];
        double[] bl = new double[n];
        for (int i = 0; i < n; i++) {
            fc[i] = i >= nTrain ? forecast[i] : Double.NaN;
            bl[i] = i >= nTrain ? baseline[i] : Double.NaN;
        }
        int from = mg ? Math.max(0, nTrain - 200) : 0;
        double[] xi = java.util.Arrays.copyOfRange(idx, from, n);
        String baseName = s > 0 ? "seasonal naive (value " + s + " steps before)" : "naive (last value)";
        new Charts.Line("forecast: " + (data != null ? data.getFileName().toString() : mg ? "Mackey-Glass"
                : "airline passengers") + ", one step ahead, last " + nTest + " held out", mg || data != null ? "step"
                : "month since 1949-01", mg || data != null ? "value" : "passengers (thousands)",
                false, false)
                .series("actual", xi, java.util.Arrays.copyOfRange(y, from, n), false)
                .series(cell + " forecast (RMSE " + Data.fmt(rmse) + ")", xi, java.util.Arrays.copyOfRange(fc, from, n), true)
                .series(baseName + " (RMSE " + Data.fmt(rmseBase) + ")", xi, java.util.Arrays.copyOfRange(bl, from, n), false)
                .save(dir.resolve("forecast.png"));

        out.println();
        out.printf(Locale.ROOT, "held-out RMSE over the last %d: %s %.4f, %s %.4f%n", nTest, cell, rmse, baseName,
                rmseBase);
        out.printf(Locale.ROOT, "training-part RMSE (one step ahead): %.4f%n", Math.sqrt(seTrain / Math.max(1, nFit)));
        out.printf(Locale.ROOT, "training loss: first 10 steps %.4f, last 10 steps %.4f; %d of %d steps clipped, "
                        + "%d skipped%n", stepLog.firstLoss(10), stepLog.lastLoss(10), stepLog.clippedSteps(),
                stepLog.rows().size(), stepLog.skippedSteps());
        out.println("metrics: " + dir.resolve("metrics.csv") + ", " + dir.resolve("forecast.csv"));
        out.println("charts:  " + dir.resolve("forecast.png") + ", " + dir.resolve("loss.png") + ", "
                + dir.resolve("grad-norm.png"));
        out.flush();
        return 0;
    }

    private static void writeForecast(Path file, double[] y, double[] f, double[] b, int nTrain) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("index,actual,forecast,baseline,held_out\n");
            for (int i = 0; i < y.length; i++) {
                w.write(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%b%n", i, y[i], f[i], b[i], i >= nTrain));
            }
        }
    }

    /** Mean and standard deviation of {@code a[from..to)}. */
    private static double[] stats(double[] a, int from, int to) {
        double m = 0;
        for (int i = from; i < to; i++) {
            m += a[i];
        }
        m /= (to - from);
        double var = 0;
        for (int i = from; i < to; i++) {
            var += sq(a[i] - m);
        }
        double sd = Math.sqrt(var / (to - from));
        return new double[] {m, sd > 0 ? sd : 1};
    }

    private static double sq(double a) {
        return a * a;
    }

    /**
     * Mackey-Glass: dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t), x = 1.2 for t <= 0, integrated with
     * fourth-order Runge-Kutta at dt = 0.1 (the delayed term held at its grid value), sampled every time unit after
     * a 500-unit transient.
     */
    static double[] mackeyGlass(int length, int tau) {
        double dt = 0.1;
        int per = 10;
        int lag = (int) Math.round(tau / dt);
        int warmup = 500 * per;
        int total = warmup + length * per;
        double[] x = new double[total + 1];
        double[] hist = new double[lag + total + 1];
        java.util.Arrays.fill(hist, 0, lag + 1, 1.2);
        x[0] = 1.2;
        for (int i = 0; i < total; i++) {
            double delayed = hist[i];               // x(t - tau), hist[k] = x at step k - lag
            double delayedNext = hist[i + 1];
            double xi = x[i];
            double k1 = f(xi, delayed);
            double mid = 0.5 * (delayed + delayedNext);
            double k2 = f(xi + 0.5 * dt * k1, mid);
            double k3 = f(xi + 0.5 * dt * k2, mid);
            double k4 = f(xi + dt * k3, delayedNext);
            x[i + 1] = xi + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
            hist[lag + i + 1] = x[i + 1];
        }
        double[] out = new double[length];
        for (int k = 0; k < length; k++) {
            out[k] = x[warmup + k * per];
        }
        return out;
    }

    private static double f(double x, double delayed) {
        return 0.2 * delayed / (1 + Math.pow(delayed, 10)) - 0.1 * x;
    }
}
