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
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
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
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classifies synthetic control chart series (6 classes, 60 steps; Alcock & Manolopoulos 1999).",
                "Reports held-out accuracy and the confusion matrix. Your own data: --data FILE with lines "
                        + "'label,v1,v2,...' (20% held out)."})
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

    record Example(double[] series, int label) {
    }

    @Override
    public Integer call() throws Exception {
        if (batch < 1) {
            throw new UserError("--batch must be at least 1, got " + batch);
        }
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
        double[] ms = meanSd(train);
        int h = hidden != null ? hidden : 32;
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
