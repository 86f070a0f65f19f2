package org.dl4jclipping.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The stability experiment: a small character language model trained with plain SGD or Adam at learning rates on a
 * log grid (3 per decade from 1e-3 by default), once without clipping and once with each clipping strategy. A run
 * diverges when its loss becomes NaN or exceeds twice its starting loss. Reports, per strategy, the rates that train
 * without divergence, the largest, the stable range against no clipping, and the best held-out loss.
 */
@Command(name = "lr-sweep", mixinStandardHelpOptions = true,
        description = {"Stability experiment: a small char-LM trained with SGD or Adam at learning rates on a log grid "
                + "from 1e-3, without clipping and with global-norm, value, AGC, AutoClip, ZClip and AdaGC clipping.",
                "A run diverges when its loss is NaN or exceeds 2x its starting loss. With --clip SPEC, compares "
                        + "none against SPEC only."})
final class LrSweepCommand extends ExampleCommand {

    private static final PrintWriter QUIET = new PrintWriter(java.io.Writer.nullWriter());

    /**
     * AGC's clip factor for this sweep. With plain SGD a unit's update is {@code lr * g}, so AGC bounds its relative
     * change per step by {@code lr * lambda}. Brock et al. (2021) use 0.01 for batches of 4096 and report that
     * smaller batches need a larger factor; ours are 16 to 32 sequences, and 0.01 would clip nearly every step at
     * the small rates (training would crawl). 0.05 keeps a unit's change below 15% of its weight norm per step
     * even at the largest rate, 3, and rarely binds at rates below 0.1. The output layer is not clipped (AGC's
     * default, as in the paper).
     */
    static final String AGC = "agc:0.05";

    @Option(names = "--points", description = "Learning rates on the grid (default 6 quick; full: 3 per decade "
            + "from 1e-3 to --lr-max).")
    Integer points;

    @Option(names = "--lr-min", defaultValue = "0.001", description = "Smallest learning rate of the grid (default "
            + "${DEFAULT-VALUE}); with a larger one, the full grid's rates from there on: extends a sweep upwards.")
    double lrMin;

    @Option(names = "--lr-max", description = "Largest learning rate of the grid (default 3 for SGD, 0.3 for Adam).")
    Double lrMax;

    @Option(names = "--optimizer", paramLabel = "sgd|adam", defaultValue = "sgd",
            description = "Optimiser of every run: plain SGD or Adam (default betas). Default: ${DEFAULT-VALUE}.")
    Optimizer optimizer;

    /** The optimiser of the sweep. */
    enum Optimizer {
        SGD, ADAM;

        IUpdater at(double lr) {
            return this == SGD ? new Sgd(lr) : new Adam(lr);
        }
    }

    @Option(names = "--hidden", description = "Recurrent units (default 32 quick, 64 full).")
    Integer hidden;

    @Option(names = "--seq-length", description = "Characters per sequence (default 32 quick, 50 full).")
    Integer seqLength;

    @Option(names = "--batch", description = "Sequences per minibatch (default 16 quick, 32 full).")
    Integer batch;

    @Option(names = "--strategies", description = "Clipping specs to compare against none, separated by ';' "
            + "(e.g. \"global-norm:1.0;adagc;skip-nonfinite,skip-spikes\"); default global-norm:1.0, value:0.1, "
            + "agc:0.05, autoclip:10, zclip and adagc (--quick: the first three).")
    String strategyList;

    @Option(names = "--spike-every", description = "Inject a gradient spike every N steps: that minibatch's "
            + "targets times 1000 (the same minibatches for every run); spiked steps do not count as divergence, "
            + "and the last 10 steps have none. 0 (default): no spikes.")
    int spikeEvery;

    @Option(names = "--spike-start", description = "First step that may be spiked (default: --spike-every).")
    Integer spikeStart;

    /** One strategy's runs. */
    record Run(String strategy, double lr, double startLoss, double finalLoss, int divergedAt, double heldOut,
               StepLog log) {
        boolean diverged() {
            return divergedAt > 0;
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        int h = hidden != null ? hidden : quick ? 32 : 64;
        int len = seqLength != null ? seqLength : quick ? 32 : 50;
        int b = batch != null ? batch : quick ? 16 : 32;
        int n = steps(20, 250);   // --quick: 6 rates x 20 steps x 4 strategies, about a minute
        double max = lrMax != null ? lrMax : optimizer == Optimizer.SGD ? 3 : 0.3;
        if (!(lrMin > 0)) {
            throw new UserError("--lr-min " + lrMin + ": must be larger than 0");
        }
        if (!(max > lrMin)) {
            throw new UserError("--lr-max " + max + ": must be larger than " + lrMin);
        }
        // full: 3 rates per decade (1, 2.15, 4.64 x 10^k) up to max; --quick or --points: k rates spanning the range
        int k = points != null ? points : quick ? 6 : 1 + (int) Math.floor(3 * Math.log10(max / lrMin) + 1e-9);
        if (k < 2) {
            throw new UserError("--points " + k + ": need at least 2");
        }
        double top = points != null || quick ? max : lrMin * Math.pow(10, (k - 1) / 3.0);
        double[] rates = new double[k];
        for (int i = 0; i < k; i++) {
            rates[i] = lrMin * Math.pow(top / lrMin, (double) i / (k - 1));
        }
        List<String> strategies = new ArrayList<>();
        strategies.add("none");
        boolean explicitClip = spec.commandLine().getParseResult() != null
                && spec.commandLine().getParseResult().hasMatchedOption("--clip");
        if (strategyList != null) {
            for (String one : strategyList.split(";")) {
                ClipSpec.parse(one.trim());   // fails early on a bad spec
                String s = one.trim().toLowerCase(Locale.ROOT);
                if (!strategies.contains(s)) {   // "none" is always first; a strategy named twice runs once
                    strategies.add(s);
                }
            }
        } else if (explicitClip) {
            ClipSpec.parse(clip);   // fails early on a bad spec
            if (!clip.trim().equalsIgnoreCase("none")) {
                strategies.add(clip.trim().toLowerCase(Locale.ROOT));
            }
        } else {
            strategies.add("global-norm:1.0");
            strategies.add("value:0.1");
            strategies.add(AGC);
            if (!quick) {
                strategies.add("autoclip:10");
                strategies.add("zclip");
                strategies.add("adagc");
            }
        }
        CharCorpus corpus = CharCorpus.load(data, len);
        out.printf(Locale.ROOT, "lr-sweep: %s; %s(%d), sequences of %d, batch %d, %s, %d steps per run%n",
                corpus.name, cell, h, len, b, optimizer == Optimizer.SGD ? "plain SGD" : "Adam", n);
        out.printf(Locale.ROOT, "learning rates: %d on a log grid from %s to %s; strategies: %s%n", k, rate(lrMin),
                rate(rates[k - 1]), String.join(", ", strategies));
        out.println("a run diverges when its loss is NaN or exceeds 2x its starting loss"
                + (spikeEvery > 0 ? "; a spike (targets x 1000) every " + spikeEvery + " steps" : ""));
        out.flush();

        List<Run> runs = new ArrayList<>();
        try (Progress progress = progress("lr-sweep", (long) n * k * strategies.size())) {
            for (String s : strategies) {
                ClipSpec clipSpec = ClipSpec.parse(s);
                for (double lr : rates) {
                    runs.add(train(corpus, clipSpec, s, lr, h, len, b, n, progress, out));
                }
            }
        }

        Path dir = outDir();
        List<String> prefixes = runs.stream().map(r -> r.strategy().replace(',', '+') + "," + rate(r.lr())).toList();
        StepLog.writeCsv(dir.resolve("metrics.csv"), "strategy,lr", prefixes, runs.stream().map(Run::log).toList());
        writeSummary(dir.resolve("sweep.csv"), runs);
        String table = table(strategies, rates, runs);
        Files.writeString(dir.resolve("sweep.md"), table, StandardCharsets.UTF_8);
        Charts.Line chart = new Charts.Line("lr-sweep: final training loss (" + cell + "(" + h + "), " + optimizer
                + ", " + n + " steps); diverged runs drawn at 2x their start", "learning rate",
                "final loss (bits per character)", true, false);
        for (String s : strategies) {
            List<Run> rs = runs.stream().filter(r -> r.strategy().equals(s)).toList();
            double[] x = rs.stream().mapToDouble(Run::lr).toArray();
            double[] y = rs.stream().mapToDouble(r -> r.diverged() ? 2 * r.startLoss() : r.finalLoss()).toArray();
            chart.series(s, x, y, true);
        }
        chart.save(dir.resolve("lr-sweep.png"));

        out.println();
        out.print(table);
        out.println("metrics: " + dir.resolve("metrics.csv") + ", " + dir.resolve("sweep.csv") + ", "
                + dir.resolve("sweep.md"));
        out.println("charts:  " + dir.resolve("lr-sweep.png"));
        out.flush();
        return 0;
    }

    private Run train(CharCorpus corpus, ClipSpec clipSpec, String name, double lr, int h, int len, int b, int n,
                      Progress progress, PrintWriter out) {
        StepLog log = new StepLog(n);
        MultiLayerNetwork net = Networks.charLanguageModel(new Networks.Setup(cell, optimizer.at(lr), clipSpec, seed),
                corpus.vocabSize(), h, 1, 0.0, log);
        Random random = new Random(seed);   // every run sees the same batches
        double start = Double.NaN;
        int divergedAt = 0;
        int done = 0;
        for (int step = 1; step <= n; step++) {
            StepLog.Row row;
            boolean spike = spikeEvery > 0 && step % spikeEvery == 0 && step <= n - 10
                    && step >= (spikeStart != null ? spikeStart : spikeEvery);
            org.nd4j.linalg.dataset.DataSet batchData = corpus.batch(random, b, len);
            if (spike) {
                batchData.getLabels().muli(1000);
            }
            try {
                row = fit(net, batchData, log, len * Math.log(2), QUIET);
            } catch (RuntimeException e) {   // a numerical failure inside DL4J counts as divergence too
                row = null;
            }
            done = step;
            if (row == null) {
                log.record(Double.NaN);
                divergedAt = step;
                break;
            }
            if (step == 1) {
                start = row.loss();
            }
            progress.step(String.format(Locale.ROOT, "%s lr %s", name, rate(lr)));
            if (!Double.isFinite(row.loss()) || (!spike && row.loss() > 2 * start)) {
                divergedAt = step;
                break;
            }
        }
        for (int i = done; i < n; i++) {
            progress.step(String.format(Locale.ROOT, "%s lr %s", name, rate(lr)));
        }
        double fin = divergedAt > 0 ? Double.NaN : log.lastLoss(Math.min(5, n));
        double heldOut = divergedAt > 0 ? Double.NaN : corpus.validationBits(net, len, 64);
        return new Run(name, lr, start, fin, divergedAt, heldOut, log);
    }

    static String table(List<String> strategies, double[] rates, List<Run> runs) {
        StringBuilder sb = new StringBuilder();
        sb.append("| strategy | rates without divergence | largest stable rate | stable range vs none "
                + "| best final loss (bits/char) | diverged runs | best held-out (bits/char) |\n"
                + "| --- | --- | --- | --- | --- | --- | --- |\n");
        double noneRange = stableRange(runs, strategies.get(0));
        for (String s : strategies) {
            List<Run> rs = runs.stream().filter(r -> r.strategy().equals(s)).toList();
            List<Run> stable = rs.stream().filter(r -> !r.diverged()).toList();
            String range;
            String largest;
            if (stable.isEmpty()) {
                range = "none";
                largest = "-";
            } else {
                double lo = stable.get(0).lr();
                double hi = stable.get(stable.size() - 1).lr();
                boolean contiguous = rs.stream().noneMatch(r -> r.diverged() && r.lr() > lo && r.lr() < hi);
                range = rate(lo) + " to " + rate(hi) + (contiguous ? "" : " (with gaps)");
                largest = rate(hi);
            }
            Run best = stable.stream().min((x, y) -> Double.compare(x.finalLoss(), y.finalLoss())).orElse(null);
            String bestText = best == null ? "-" : String.format(Locale.ROOT, "%.3f at %s", best.finalLoss(),
                    rate(best.lr()));
            List<String> div = rs.stream().filter(Run::diverged)
                    .map(r -> rate(r.lr()) + " (step " + r.divergedAt() + ")").toList();
            double ratio = stableRange(runs, s) / noneRange;
            sb.append("| ").append(s).append(" | ").append(range).append(" | ").append(largest).append(" | ")
                    .append(Double.isFinite(ratio) ? String.format(Locale.ROOT, "%.3gx", ratio) : "-").append(" | ")
                    .append(bestText).append(" | ").append(div.isEmpty() ? "-" : String.join(", ", div))
                    .append(" | ").append(stable.stream().filter(r -> Double.isFinite(r.heldOut()))
                            .min((x, y) -> Double.compare(x.heldOut(), y.heldOut()))
                            .map(r -> String.format(Locale.ROOT, "%.3f at %s", r.heldOut(), rate(r.lr())))
                            .orElse("-"))
                    .append(" |\n");
        }
        sb.append(String.format(Locale.ROOT, "%nrates: %s%n", String.join(", ",
                java.util.Arrays.stream(rates).mapToObj(LrSweepCommand::rate).toList())));
        return sb.toString();
    }

    /**
     * Width of a strategy's stable range as the ratio of its largest to its smallest stable rate (1 for a single
     * stable rate, NaN for none).
     */
    static double stableRange(List<Run> runs, String strategy) {
        double[] stable = runs.stream().filter(r -> r.strategy().equals(strategy) && !r.diverged())
                .mapToDouble(Run::lr).toArray();
        return stable.length == 0 ? Double.NaN : java.util.Arrays.stream(stable).max().getAsDouble()
                / java.util.Arrays.stream(stable).min().getAsDouble();
    }

    private static void writeSummary(Path file, List<Run> runs) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("strategy,lr,start_loss,final_loss,diverged,diverged_at_step,held_out_bits\n");
            for (Run r : runs) {
                w.write(String.format(Locale.ROOT, "%s,%s,%.6g,%.6g,%b,%d,%.6g%n", r.strategy().replace(',', '+'),
                        rate(r.lr()), r.startLoss(), r.finalLoss(), r.diverged(), r.divergedAt(), r.heldOut()));
            }
        }
    }

    static String rate(double lr) {
        return String.format(Locale.ROOT, "%.3g", lr);
    }
}
