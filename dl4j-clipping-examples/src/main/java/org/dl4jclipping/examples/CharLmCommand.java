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
import org.dl4jclipping.dl4j.ClippingListener;
import org.nd4j.linalg.learning.config.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Character language model on tiny Shakespeare (or the user's text), trained for a number of steps or a wall-clock
 * budget, with checkpoints that a later run continues bit-identically ({@code --resume}).
 */
@Command(name = "char-lm", mixinStandardHelpOptions = true,
        description = {"Character language model (LSTM or GRU) on tiny Shakespeare or your own text (--data).",
                "The full run trains for --minutes (default 30), checkpointing every --checkpoint-minutes; "
                        + "--resume DIR continues a run from its checkpoint.",
                "Prints generated samples and the held-out loss (last 10% of the text, bits per character)."})
final class CharLmCommand extends ExampleCommand {

    @Mixin
    AdviseOption advise = new AdviseOption();

    @Option(names = "--hidden", description = "Units per recurrent layer (default 64 quick, 256 full).")
    Integer hidden;

    @Option(names = "--layers", description = "Recurrent layers (default 1 quick, 2 full).")
    Integer layers;

    @Option(names = "--seq-length", description = "Characters per training sequence (default 50 quick, 100 full).")
    Integer seqLength;

    @Option(names = "--batch", description = "Sequences per minibatch (default 32).")
    Integer batch;

    @Option(names = "--minutes", description = "Training budget in minutes of training time (default 30 for the "
            + "full run; --quick and --steps count steps instead).")
    Double minutes;

    @Option(names = "--checkpoint-minutes", defaultValue = "5",
            description = "Minutes between checkpoints (and one at the end). Default: ${DEFAULT-VALUE}.")
    double checkpointMinutes;

    @Option(names = "--dropout", paramLabel = "RATE",
            description = "Dropout rate (probability of dropping) on the input of every layer but the first, in "
                    + "[0, 1) (default 0.2 full, 0 quick).")
    Double dropout;

    @Option(names = "--lr-schedule", defaultValue = "cosine", paramLabel = "cosine|linear|none",
            description = "Learning rate over the budget (--minutes or --steps): warm-up over the first 2%, then "
                    + "cosine or linear decay to a tenth; none keeps --lr. Default: ${DEFAULT-VALUE}.")
    String lrSchedule;

    @Option(names = "--stop-after", hidden = true,
            description = "Stop after this step as if interrupted (checkpoint written; for testing --resume).")
    Integer stopAfter;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "Continue the run whose checkpoint is in DIR (its --out folder), with its network, "
                    + "optimiser and clipping state, data position and training time.")
    Path resume;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        Path dir = outDir();
        Checkpoint.State resumed = resume == null ? null : Checkpoint.state(resume);
        int len = resumed != null ? resumed.seqLength() : seqLength != null ? seqLength : quick ? 50 : 100;
        int b = resumed != null ? resumed.batch() : batch != null ? batch : 32;
        boolean timed = minutes != null || (steps == null && !quick);
        long budget = timed ? (long) ((minutes != null ? minutes : 30.0) * 60e9) : Long.MAX_VALUE;
        int maxSteps = timed && steps == null ? Integer.MAX_VALUE : steps(120, Integer.MAX_VALUE);
        CharCorpus corpus = CharCorpus.load(data, len);
        StepLog log = new StepLog(1 << 16);

        LrSchedule schedule = LrSchedule.parse(lrSchedule);
        double peak = lr(quick ? 1e-2 : 2e-3);
        MultiLayerNetwork net;
        if (resumed != null) {
            net = Checkpoint.network(resume);
            net.addListeners(new ClippingListener(log.history(), log));   // listeners are not saved with a model
            log.restore(resumed.rows());
        } else {
            int h = hidden != null ? hidden : quick ? 64 : 256;
            int nLayers = layers != null ? layers : quick ? 1 : 2;
            net = Networks.charLanguageModel(setup(new Adam(peak)), corpus.vocabSize(), h, nLayers,
                    dropout != null ? dropout : quick ? 0.0 : 0.2, log);
        }
        Random data = resumed != null ? resumed.data() : new Random(seed);
        Random sampling = resumed != null ? resumed.sampling() : new Random(seed + 1);
        long spent = resumed != null ? resumed.trainingNanos() : 0;
        int first = resumed != null ? resumed.step() + 1 : 1;

        out.printf(Locale.ROOT, "char-lm: %s, %,d characters to train, %,d held out, vocabulary %d%n", corpus.name,
                corpus.trainLength(), corpus.validLength(), corpus.vocabSize());
        out.printf(Locale.ROOT, "%s, sequences of %d, batch %d, clip %s, %s, Adam %s%s%s%n", describe(net), len, b,
                clip, timed ? String.format(Locale.ROOT, "%.1f minutes of training", budget / 60e9) : maxSteps + " steps",
                peak, schedule == LrSchedule.NONE ? "" : " with " + schedule.name().toLowerCase(Locale.ROOT)
                        + " schedule (warm-up, decay to a tenth)",
                resumed != null ? ", resumed at step " + (first - 1) : "");
        boolean small = quick || steps != null;
        int valWindows = small ? 20 : 200;
        double bitsBefore = corpus.validationBits(net, len, valWindows);
        out.printf(Locale.ROOT, "held-out loss %s: %.3f bits/char%n", resumed != null ? "at resume" : "before training",
                bitsBefore);
        out.flush();

        int reports = small ? 3 : 10;
        long reportEvery = timed ? budget / reports : 0;
        int reportSteps = timed ? 0 : Math.max(1, maxSteps / reports);
        long nextReport = spent + reportEvery;
        long checkpointEvery = (long) (checkpointMinutes * 60e9);
        long nextCheckpoint = System.nanoTime() + checkpointEvery;
        Path curve = dir.resolve("validation.csv");
        appendCurve(curve, resumed == null, first - 1, spent, bitsBefore);
        int step = first - 1;
        try (Progress progress = timed ? progress("char-lm", budget / 1_000_000_000L, spent / 1_000_000_000L)
                : progress("char-lm", maxSteps, first - 1)) {
            while (step < maxSteps && spent < budget && (stopAfter == null || step < stopAfter)) {
                step++;
                LrSchedule.apply(net, schedule.at(peak, timed ? (double) spent / budget
                        : (double) (step - 1) / maxSteps));
                long t0 = System.nanoTime();
                StepLog.Row row = fit(net, corpus.batch(data, b, len), log, len * Math.log(2), out);
                spent += System.nanoTime() - t0;
                if (row == null) {
                    break;
                }
                advise.afterStep(step, timed ? Integer.MAX_VALUE : maxSteps, log, net, out);
                progress.stepTo(timed ? spent / 1_000_000_000L : step,
                        String.format(Locale.ROOT, "loss %.3f bits/char", row.loss()));
                boolean last = step == maxSteps || spent >= budget || (stopAfter != null && step == stopAfter);
                if (last || (timed ? spent >= nextReport : step % reportSteps == 0)) {
                    nextReport += reportEvery;
                    double bits = last ? Double.NaN : corpus.validationBits(net, len, Math.min(valWindows, 50));
                    if (!last) {
                        appendCurve(curve, false, step, spent, bits);
                    }
                    out.printf(Locale.ROOT, "%n--- step %d, %.1f min, training loss %.3f, held-out %s bits/char, "
                                    + "sample: ---%n%s%n---%n", step, spent / 60e9, log.lastLoss(Math.min(20, step)),
                            last ? "(below)" : String.format(Locale.ROOT, "%.3f", bits),
                            corpus.sample(net, corpus.defaultPrime(), small ? 160 : 300, 0.8, sampling));
                    out.flush();
                }
                if (System.nanoTime() >= nextCheckpoint || last) {
                    Checkpoint.write(dir, net, new Checkpoint.State(step, spent, len, b, data, sampling, log.rows()));
                    nextCheckpoint = System.nanoTime() + checkpointEvery;
                }
            }
        }
        double bits = corpus.validationBits(net, len, valWindows);
        appendCurve(curve, false, step, spent, bits);
        writeTrainingOutputs(log, "training loss (bits per character)");
        out.printf(Locale.ROOT, "%nheld-out loss (last 10%% of the text): %.3f bits/char (%s %.3f)%n", bits,
                resumed != null ? "at resume" : "before training", bitsBefore);
        out.printf(Locale.ROOT, "training loss: first 10 steps %.3f, last 10 steps %.3f bits/char; %d steps in "
                        + "%.1f min of training (%.0f ms/step), %d clipped, %d skipped%n", log.firstLoss(10),
                log.lastLoss(10), step, spent / 60e9, spent / 1e6 / Math.max(1, step - first + 1),
                log.clippedSteps(), log.skippedSteps());
        out.println("checkpoint: " + dir.resolve(Checkpoint.MODEL) + " (continue with --resume " + dir + ")");
        out.println("metrics: " + dir.resolve("metrics.csv") + ", " + curve);
        out.println("charts:  " + dir.resolve("loss.png") + ", " + dir.resolve("grad-norm.png"));
        out.flush();
        return 0;
    }

    private static String describe(MultiLayerNetwork net) {
        int recurrent = net.getnLayers() - 1;
        org.deeplearning4j.nn.conf.layers.FeedForwardLayer first =
                (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) net.getLayerWiseConfigurations().getConf(0)
                        .getLayer();
        return String.format(Locale.ROOT, "%d x %s(%d), %,d parameters", recurrent, first.getClass().getSimpleName(),
                first.getNOut(), net.numParams());
    }

    /** One line {@code step,training_minutes,heldout_bits} of the held-out curve. */
    private static void appendCurve(Path file, boolean fresh, int step, long nanos, double bits) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        boolean header = fresh || !Files.exists(file);
        try (Writer w = fresh ? Files.newBufferedWriter(file, StandardCharsets.UTF_8)
                : Files.newBufferedWriter(file, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND)) {
            if (header) {
                w.write("step,training_minutes,heldout_bits_per_char\n");
            }
            w.write(String.format(Locale.ROOT, "%d,%.3f,%.4f%n", step, nanos / 60e9, bits));
        }
    }
}
