package org.dl4jclipping.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.privacy.DpStepReport;
import org.dl4jclipping.privacy.PerExampleGradients;
import org.dl4jclipping.privacy.PrivacyAccountant;
import org.dl4jclipping.privacy.PrivacyBudgetExceededException;
import org.dl4jclipping.privacy.PrivateTraining;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.ops.transforms.Transforms;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Sequence classification of synthetic control charts (Alcock &amp; Manolopoulos 1999; the UCI "Synthetic Control
 * Chart Time Series"): 6 classes of 60-step series generated from their formulas, with m = 30, s = 2,
 * r uniform in [-3, 3] at every step:
 * <ul>
 *   <li>normal: y(t) = m + r s</li>
 *   <li>cyclic: y(t) = m + r s + a sin(2 pi t / T), a in [10, 15], T in [10, 15]</li>
 *   <li>increasing / decreasing trend: y(t) = m + r s +- g t, g in [0.2, 0.5]</li>
 *   <li>upward / downward shift: y(t) = m + r s +- k(t) x, x in [7.5, 20], k(t) = 0 before a step t3 in
 *       [n/3, 2n/3], 1 from it on</li>
 * </ul>
 *
 * <p>{@code --private} ({@link PrivateOptions}) trains the same classifier by DP-SGD
 * ({@link org.dl4jclipping.privacy.PrivateTraining}) instead.
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classifies synthetic control chart series (6 classes, 60 steps; Alcock & Manolopoulos 1999).",
                "Reports held-out accuracy and the confusion matrix. Your own data: --data FILE with lines "
                        + "'label,v1,v2,...' (20% held out).",
                "With --private: differentially private training (DP-SGD) within a target --epsilon."})
final class ClassifyCommand extends ExampleCommand {

    @Mixin
    AdviseOption advise = new AdviseOption();

    static final List<String> CLASSES = List.of("normal", "cyclic", "increasing trend", "decreasing trend",
            "upward shift", "downward shift");
    static final int LENGTH = 60;

    @Option(names = "--per-class", description = "Generated training series per class (default 100 quick, 300 full); "
            + "the test set has half as many.")
    Integer perClass;

    @Option(names = "--hidden", description = "Recurrent units (default 32).")
    Integer hidden;

    @Option(names = "--batch", defaultValue = "32", description = "Series per minibatch (default ${DEFAULT-VALUE}).")
    int batch;

    @Mixin
    PrivateOptions privateOptions = new PrivateOptions();

    record Example(double[] series, int label) {
    }

    @Override
    public Integer call() throws Exception {
        if (batch < 1) {
            throw new UserError("--batch must be at least 1, got " + batch);
        }
        privateOptions.validate(spec, advise.warmup != null);
        PrintWriter out = out();
        List<String> classes;
        List<Example> train;
        List<Example> test;
        String name;
        Random gen = new Random(seed);
        if (data == null) {
            int per = perClass != null ? perClass : quick ? 100 : 300;
            classes = CLASSES;
            train = generate(per, gen);
            test = generate(Math.max(1, per / 2), gen);
            name = "synthetic control charts";
        } else {
            Data.Labelled l = Data.labelledSeries(Data.lines(data));
            Map<String, Integer> ids = new LinkedHashMap<>();
            List<Example> all = new ArrayList<>();
            for (int i = 0; i < l.labels().size(); i++) {
                int id = ids.computeIfAbsent(l.labels().get(i), k -> ids.size());
                all.add(new Example(l.series().get(i), id));
            }
            if (ids.size() < 2 || all.size() < 10) {
                throw new UserError(data + ": " + all.size() + " series in " + ids.size() + " classes; need at least "
                        + "10 series and 2 classes");
            }
            classes = new ArrayList<>(ids.keySet());
            Collections.shuffle(all, gen);
            int nTest = Math.max(1, all.size() / 5);
            test = all.subList(0, nTest);
            train = all.subList(nTest, all.size());
            name = data.toString();
        }
        int length = train.get(0).series().length;
        int h = hidden != null ? hidden : 32;
        if (privateOptions.enabled) {
            return trainPrivately(out, name, classes, train, test, length, h);
        }
        double[] ms = meanSd(train);
        int nSteps = steps(150, 1500);
        double rate = lr(1e-2);
        ClipSpec clipSpec = clipSpec();
        out.printf(Locale.ROOT, "classify: %s, %d classes, series of %d, %d to train, %d held out%n", name,
                classes.size(), length, train.size(), test.size());
        out.printf(Locale.ROOT, "%s(%d) read at its last step, Adam(%g), clip %s, batch %d, %d steps%n", cell, h, rate,
                clipSpec, batch, nSteps);
        out.flush();
        StepLog log = new StepLog(nSteps);
        MultiLayerNetwork net = Networks.sequenceClassifier(setup(new Adam(rate)), 1, h, classes.size(), log);
        Random random = new Random(seed + 1);
        try (Progress progress = progress("classify", nSteps)) {
            for (int step = 1; step <= nSteps; step++) {
                List<Example> b = new ArrayList<>(batch);
                for (int i = 0; i < batch; i++) {
                    b.add(train.get(random.nextInt(train.size())));
                }
                StepLog.Row row = fit(net, dataSet(b, classes.size(), ms), log, 1, out);
                if (row == null) {
                    break;
                }
                advise.afterStep(step, nSteps, log, net, out);
                progress.step(String.format(Locale.ROOT, "loss %.4f", row.loss()));
            }
        }
        int k = classes.size();
        long[][] confusion = new long[k][k];
        int correct = 0;
        for (int from = 0; from < test.size(); from += 128) {
            List<Example> chunk = test.subList(from, Math.min(test.size(), from + 128));
            INDArray p = net.output(dataSet(chunk, k, ms).getFeatures(), false);
            INDArray argmax = p.argMax(1);
            for (int i = 0; i < chunk.size(); i++) {
                int predicted = argmax.getInt(i);
                confusion[chunk.get(i).label()][predicted]++;
                if (predicted == chunk.get(i).label()) {
                    correct++;
                }
            }
        }
        double accuracy = (double) correct / test.size();
        Path dir = outDir();
        writeTrainingOutputs(log, "training loss (cross-entropy)");
        writeConfusion(dir.resolve("confusion.csv"), classes, confusion);
        out.println();
        out.printf(Locale.ROOT, "held-out accuracy: %.1f%% (%d of %d); chance %.1f%%%n", 100 * accuracy, correct,
                test.size(), 100.0 / k);
        out.println("confusion matrix (rows: true class, columns: predicted):");
        out.print(confusionTable(classes, confusion));
        out.printf(Locale.ROOT, "training loss: first 10 steps %.4f, last 10 steps %.4f; %d of %d steps clipped, "
                        + "%d skipped%n", log.firstLoss(10), log.lastLoss(10), log.clippedSteps(), log.rows().size(),
                log.skippedSteps());
        out.println("metrics: " + dir.resolve("metrics.csv") + ", " + dir.resolve("confusion.csv"));
        out.println("charts:  " + dir.resolve("loss.png") + ", " + dir.resolve("grad-norm.png"));
        out.flush();
        return 0;
    }

    /**
     * DP-SGD ({@link PrivateTraining}): the same classifier without the clipping updater (the clipping is per
     * example), Poisson batches of expected size {@code --batch}, sigma calibrated for {@code --epsilon} at
     * {@code --delta} over the run's steps. Each series is standardised by its own mean and sd: a mean over the
     * training set would be a statistic of the private data outside the guarantee.
     */
    private int trainPrivately(PrintWriter out, String name, List<String> classes, List<Example> train,
                               List<Example> test, int length, int h) throws IOException {
        int n = train.size();
        int k = classes.size();
        if (batch > n) {
            throw new UserError("--batch " + batch + " is larger than the training set (" + n + " series): the "
                    + "sample rate q = batch / N must be at most 1");
        }
        double q = (double) batch / n;
        int stepsPerEpoch = (int) Math.max(1, Math.floor(1 / q));
        int epochs = privateOptions.epochs != null ? privateOptions.epochs
                : (int) Math.max(1, Math.round((double) steps(150, 1500) / stepsPerEpoch));
        long totalSteps = (long) epochs * stepsPerEpoch;
        double delta = privateOptions.delta(n);
        double epsilon = privateOptions.epsilon;
        double c = privateOptions.maxGradNorm;
        double sigma;
        try {
            sigma = PrivacyAccountant.noiseMultiplier(epsilon, delta, q, totalSteps);
        } catch (IllegalArgumentException e) {
            throw new UserError("--epsilon " + epsilon + " cannot be reached: " + e.getMessage(), e);
        }
        double rate = lr(PrivateOptions.DEFAULT_LR);
        MultiLayerNetwork net = privateClassifier(h, k, rate);
        try {
            PerExampleGradients.requireSupported(net);
        } catch (IllegalArgumentException e) {
            throw new UserError("--private: this network cannot be trained privately: " + e.getMessage(), e);
        }
        out.printf(Locale.ROOT, "classify --private: %s, %d classes, series of %d, %d to train, %d held out%n", name,
                k, length, n, test.size());
        out.printf(Locale.ROOT, "%s(%d) read at its last step, Adam(%s), DP-SGD: per-example clipping C = %s, "
                        + "Poisson batches q = %d/%d = %.5f, %d epochs of %d steps = %d steps%n", cell, h, num(rate),
                num(c), batch, n, q, epochs, stepsPerEpoch, totalSteps);
        out.printf(Locale.ROOT, "noise multiplier sigma = %.4f for epsilon %s at delta %s%n", sigma, num(epsilon),
                num(delta));
        out.flush();

        PrivateTraining.Builder builder = PrivateTraining.builder().noiseMultiplier(sigma).maxGradNorm(c)
                .sampleRate(q).delta(delta).epsilonBudget(epsilon);
        if (privateOptions.reproducibleNoise) {
            builder.seed(seed);
        }
        List<DpStepReport> reports = new ArrayList<>();
        org.dl4jclipping.dl4j.ClipHistory history = new org.dl4jclipping.dl4j.ClipHistory((int) Math.min(
                Integer.MAX_VALUE, totalSteps));
        builder.history(history);   // clipping.csv: the same per-step, per-layer report as the non-private runs
        DataSet trainSet = standardised(train, k);
        DataSet testSet = standardised(test, k);
        Path dir = outDir();
        Files.createDirectories(dir);
        PrivateTraining dp;
        String stopped = null;
        try (Progress progress = progress("classify --private", totalSteps)) {
            dp = builder.report(r -> {
                reports.add(r);
                progress.step(String.format(Locale.ROOT, "epsilon %.3f", r.epsilon()));
            }).build();
            for (int e = 1; e <= epochs; e++) {
                int first = reports.size();
                try {
                    dp.fit(net, trainSet, 1);
                } catch (PrivacyBudgetExceededException ex) {
                    stopped = ex.getMessage();
                }
                double clipped = reports.subList(first, reports.size()).stream()
                        .mapToDouble(DpStepReport::fractionClipped).average().orElse(Double.NaN);
                double[] eval = evaluate(net, testSet);
                if (!noProgress) {
                    out.println();
                }
                out.printf(Locale.ROOT, "epoch %d/%d: held-out loss %.4f, accuracy %.1f%%; epsilon %.3f spent; "
                        + "%.0f%% of sampled examples clipped%n", e, epochs, eval[0], 100 * eval[1],
                        dp.spent().epsilon(), 100 * clipped);
                out.flush();
                if (stopped != null) {
                    break;
                }
            }
        }
        long[][] confusion = new long[k][k];
        INDArray predicted = net.output(testSet.getFeatures(), false).argMax(1);
        int correct = 0;
        for (int i = 0; i < test.size(); i++) {
            int p = predicted.getInt(i);
            confusion[test.get(i).label()][p]++;
            correct += p == test.get(i).label() ? 1 : 0;
        }
        writeConfusion(dir.resolve("confusion.csv"), classes, confusion);
        writeDpSteps(dir.resolve("dp-steps.csv"), reports);
        history.writeCsv(dir.resolve("clipping.csv"));
        out.println();
        if (stopped != null) {
            out.println("training stopped early: " + stopped);
        }
        out.printf(Locale.ROOT, "held-out accuracy: %.1f%% (%d of %d); chance %.1f%%%n",
                100.0 * correct / test.size(), correct, test.size(), 100.0 / k);
        out.println("confusion matrix (rows: true class, columns: predicted):");
        out.print(confusionTable(classes, confusion));
        out.printf(Locale.ROOT, "sigma %.4f, q %.5f, %d steps, C %s%n", sigma, q, reports.size(), num(c));
        out.printf(Locale.ROOT, "epsilon spent %.4f at delta %s (target %s)%n", dp.spent().epsilon(), num(delta),
                num(epsilon));
        out.println("noise and sampling: " + dp.noiseSource().description()
                + (privateOptions.reproducibleNoise ? " (--reproducible-noise)" : ""));
        out.println("metrics: " + dir.resolve("dp-steps.csv") + ", " + dir.resolve("clipping.csv") + ", "
                + dir.resolve("confusion.csv"));
        out.flush();
        return 0;
    }

    /**
     * The classifier {@link Networks#sequenceClassifier} builds (one recurrent layer read at its last step, softmax
     * output, cross-entropy, Xavier, the seed) as the builder makes it for DP-SGD: a plain Adam, no batch clipping.
     */
    private MultiLayerNetwork privateClassifier(int h, int k, double rate) {
        return org.dl4jclipping.rnn.models.SequenceClassifier.builder().features(1).classes(k).cell(cell).width(h)
                .updater(new Adam(rate)).seed(seed).privateNetwork();
    }

    /** {@code x} without trailing zeros: 8, 0.02, 1E-5. */
    private static String num(double x) {
        return java.math.BigDecimal.valueOf(x).stripTrailingZeros().toString();
    }

    /** Held-out {@code {loss, accuracy}}. */
    private static double[] evaluate(MultiLayerNetwork net, DataSet test) {
        INDArray p = net.output(test.getFeatures(), false);
        INDArray argmax = p.argMax(1);
        INDArray truth = test.getLabels().argMax(1);
        long n = test.numExamples();
        int correct = 0;
        for (int i = 0; i < n; i++) {
            correct += argmax.getInt(i) == truth.getInt(i) ? 1 : 0;
        }
        double loss = -Transforms.log(p.mul(test.getLabels()).sum(1).addi(1e-12), false).meanNumber().doubleValue();
        return new double[] {loss, (double) correct / n};
    }

    /** Every series standardised by its own mean and sd (no statistic of the training set enters the input). */
    static DataSet standardised(List<Example> examples, int classes) {
        List<Example> scaled = new ArrayList<>(examples.size());
        for (Example e : examples) {
            double[] s = e.series();
            double mean = java.util.Arrays.stream(s).average().orElse(0);
            double sq = java.util.Arrays.stream(s).map(v -> (v - mean) * (v - mean)).sum() / s.length;
            double sd = sq > 0 ? Math.sqrt(sq) : 1;
            scaled.add(new Example(java.util.Arrays.stream(s).map(v -> (v - mean) / sd).toArray(), e.label()));
        }
        return dataSet(scaled, classes, new double[] {0, 1});
    }

    private static void writeDpSteps(Path file, List<DpStepReport> reports) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("step,batch,expected_batch,mean_norm,max_norm,fraction_clipped,noise_std,epsilon\n");
            for (DpStepReport r : reports) {
                w.write(String.format(Locale.ROOT, "%d,%d,%.4g,%.6g,%.6g,%.4f,%.6g,%.6g%n", r.step() + 1, r.batchSize(),
                        r.expectedBatchSize(), r.meanNorm(), r.maxNorm(), r.fractionClipped(), r.noiseStd(),
                        r.epsilon()));
            }
        }
    }

    /** {@code perClass} series of each class, in class order. */
    static List<Example> generate(int perClass, Random r) {
        List<Example> out = new ArrayList<>();
        for (int c = 0; c < CLASSES.size(); c++) {
            for (int i = 0; i < perClass; i++) {
                out.add(new Example(series(c, r), c));
            }
        }
        return out;
    }

    static double[] series(int c, Random r) {
        double m = 30;
        double s = 2;
        double a = u(r, 10, 15);
        double period = u(r, 10, 15);
        double g = u(r, 0.2, 0.5);
        double x = u(r, 7.5, 20);
        int t3 = (int) Math.round(u(r, LENGTH / 3.0, 2 * LENGTH / 3.0));
        double[] y = new double[LENGTH];
        for (int t = 1; t <= LENGTH; t++) {
            double base = m + u(r, -3, 3) * s;
            int k = t >= t3 ? 1 : 0;
            y[t - 1] = switch (c) {
                case 0 -> base;
                case 1 -> base + a * Math.sin(2 * Math.PI * t / period);
                case 2 -> base + g * t;
                case 3 -> base - g * t;
                case 4 -> base + k * x;
                case 5 -> base - k * x;
                default -> throw new IllegalArgumentException("class " + c);
            };
        }
        return y;
    }

    private static double u(Random r, double lo, double hi) {
        return lo + (hi - lo) * r.nextDouble();
    }

    private static double[] meanSd(List<Example> examples) {
        double sum = 0;
        double sq = 0;
        long n = 0;
        for (Example e : examples) {
            for (double v : e.series()) {
                sum += v;
                sq += v * v;
                n++;
            }
        }
        double mean = sum / n;
        double sd = Math.sqrt(Math.max(0, sq / n - mean * mean));
        return new double[] {mean, sd > 0 ? sd : 1};
    }

    private static DataSet dataSet(List<Example> examples, int classes, double[] ms) {
        int length = examples.get(0).series().length;
        float[] x = new float[examples.size() * length];
        float[] y = new float[examples.size() * classes];
        for (int i = 0; i < examples.size(); i++) {
            double[] s = examples.get(i).series();
            for (int t = 0; t < length; t++) {
                x[i * length + t] = (float) ((s[t] - ms[0]) / ms[1]);
            }
            y[i * classes + examples.get(i).label()] = 1f;
        }
        return new DataSet(Nd4j.create(x, new long[] {examples.size(), 1, length}, 'c'),
                Nd4j.create(y, new long[] {examples.size(), classes}, 'c'));
    }

    static String confusionTable(List<String> classes, long[][] m) {
        int w = Math.max(8, classes.stream().mapToInt(String::length).max().orElse(8));
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", ""));
        for (int j = 0; j < classes.size(); j++) {
            sb.append(String.format(Locale.ROOT, " %6s", abbreviate(classes.get(j))));
        }
        sb.append('\n');
        for (int i = 0; i < classes.size(); i++) {
            sb.append(String.format(Locale.ROOT, "%-" + w + "s", classes.get(i)));
            for (int j = 0; j < classes.size(); j++) {
                sb.append(String.format(Locale.ROOT, " %6d", m[i][j]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String abbreviate(String s) {
        String[] words = s.split(" ");
        if (words.length == 1) {
            return s.length() <= 6 ? s : s.substring(0, 6);
        }
        return (words[0].substring(0, Math.min(3, words[0].length())) + "."
                + words[1].substring(0, Math.min(2, words[1].length())));
    }

    private static void writeConfusion(Path file, List<String> classes, long[][] m) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("true\\predicted," + String.join(",", classes) + "\n");
            for (int i = 0; i < classes.size(); i++) {
                StringBuilder row = new StringBuilder(classes.get(i));
                for (long v : m[i]) {
                    row.append(',').append(v);
                }
                w.write(row.append('\n').toString());
            }
        }
    }
}
