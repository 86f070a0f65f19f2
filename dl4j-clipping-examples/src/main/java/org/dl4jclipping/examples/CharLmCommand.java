package org.dl4jclipping.examples;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Character language model on tiny Shakespeare (or the user's text). */
@Command(name = "char-lm", mixinStandardHelpOptions = true,
        description = {"Character language model (LSTM or GRU) on tiny Shakespeare or your own text (--data).",
                "Prints generated samples while training; reports held-out loss (last 10%) in bits per character."})
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

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        int h = hidden != null ? hidden : quick ? 64 : 256;
        int nLayers = layers != null ? layers : quick ? 1 : 2;
        int len = seqLength != null ? seqLength : quick ? 50 : 100;
        int b = batch != null ? batch : 32;
        int n = steps(120, 4000);
        int sampleEvery = Math.max(1, n / (quick ? 3 : 8));
        double rate = lr(quick ? 1e-2 : 2e-3);
        ClipSpec clipSpec = clipSpec();
        CharCorpus corpus = CharCorpus.load(data, len);

        out.printf(Locale.ROOT, "char-lm: %s, %,d characters to train, %,d held out, vocabulary %d%n", corpus.name,
                corpus.trainLength(), corpus.validLength(), corpus.vocabSize());
        out.printf(Locale.ROOT, "%d x %s(%d), sequences of %d, batch %d, Adam(%g), clip %s, %d steps%n", nLayers,
                cell, h, len, b, rate, clipSpec, n);
        out.flush();
        StepLog log = new StepLog(n);
        MultiLayerNetwork net = Networks.charLanguageModel(setup(new Adam(rate)), corpus.vocabSize(), h, nLayers, log);
        Random data = new Random(seed);
        Random sampling = new Random(seed + 1);
        int valWindows = quick || steps != null ? 20 : 200;
        double bitsBefore = corpus.validationBits(net, len, valWindows);
        out.printf(Locale.ROOT, "held-out loss before training: %.3f bits/char%n", bitsBefore);
        out.flush();
        try (Progress progress = progress("char-lm", n)) {
            for (int step = 1; step <= n; step++) {
                StepLog.Row row = fit(net, corpus.batch(data, b, len), log, len * Math.log(2), out);
                if (row == null) {
                    break;
                }
                advise.afterStep(step, n, log, net, out);
                progress.step(String.format(Locale.ROOT, "loss %.3f bits/char", row.loss()));
                if (step % sampleEvery == 0 || step == n) {
                    String text = corpus.sample(net, corpus.defaultPrime(), quick || steps != null ? 160 : 300, 0.8,
                            sampling);
                    out.printf(Locale.ROOT, "%n--- step %d, training loss %.3f bits/char, sample: ---%n%s%n%s%n",
                            step, log.lastLoss(Math.min(20, step)), text, "---");
                    out.flush();
                }
            }
        }
        double bits = corpus.validationBits(net, len, valWindows);
        Path dir = outDir();
        writeTrainingOutputs(log, "training loss (bits per character)");
        out.printf(Locale.ROOT, "%nheld-out loss (last 10%% of the text): %.3f bits/char (before training %.3f)%n",
                bits, bitsBefore);
        out.printf(Locale.ROOT, "training loss: first 10 steps %.3f, last 10 steps %.3f bits/char; %d of %d steps "
                        + "clipped, %d skipped%n", log.firstLoss(10), log.lastLoss(10), log.clippedSteps(),
                log.rows().size(), log.skippedSteps());
        out.println("metrics: " + dir.resolve("metrics.csv"));
        out.println("charts:  " + dir.resolve("loss.png") + ", " + dir.resolve("grad-norm.png"));
        out.flush();
        return 0;
    }
}
