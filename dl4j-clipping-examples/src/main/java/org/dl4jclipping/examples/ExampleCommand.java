package org.dl4jclipping.examples;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.dl4jclipping.engine.NonFiniteGradientException;
import org.dl4jclipping.rnn.models.Cell;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The options every program shares, and the training step they all use. */
abstract class ExampleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "A short run (under 2 minutes on 2 cores) that still shows learning.")
    boolean quick;

    @Option(names = "--data", paramLabel = "PATH", description = "Train on this file instead of the bundled data.")
    Path data;

    @Option(names = "--clip", paramLabel = "SPEC", defaultValue = "skip-nonfinite,global-norm:1.0",
            description = {"Clipping chain, strategies joined by ',': global-norm:C, layer-norm:C, param-norm:C, value:C, "
                    + "zero-out:T, skip-nonfinite, zero-nonfinite, agc:L, autoclip:P, zclip, or none. "
                    + "Default: ${DEFAULT-VALUE}."})
    String clip;

    @Option(names = "--cell", paramLabel = "lstm|dl4j_lstm|gru", defaultValue = "lstm",
            description = "Recurrent cell: lstm (NativeLSTM: DL4J's LSTM with a native forward pass), dl4j_lstm (DL4J's LSTM) or gru. Default: ${DEFAULT-VALUE}.")
    Cell cell;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (weights and data). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder for metrics.csv and charts. Default: out/<program>.")
    Path out;

    @Option(names = "--steps", hidden = true, description = "Training steps (overrides --quick and the full run).")
    Integer steps;

    @Option(names = "--lr", description = "Learning rate (each program has its own default).")
    Double lr;

    @Option(names = "--no-progress", hidden = true, description = "No progress bar.")
    boolean noProgress;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    Path outDir() {
        return out != null ? out : Path.of("out", spec.name());
    }

    ClipSpec clipSpec() {
        return ClipSpec.parse(clip);
    }

    Networks.Setup setup(IUpdater optimiser) {
        return new Networks.Setup(cell, optimiser, clipSpec(), seed);
    }

    int steps(int quickSteps, int fullSteps) {
        return steps != null ? steps : quick ? quickSteps : fullSteps;
    }

    double lr(double dflt) {
        return lr != null ? lr : dflt;
    }

    Progress progress(String task, long max) {
        return progress(task, max, 0);
    }

    Progress progress(String task, long max, long start) {
        return new Progress(task, max, start, !noProgress);
    }

    /**
     * One training step: fits the batch, records the loss (DL4J's score divided by {@code lossDivisor}) with the
     * step's gradient norms. Returns {@code null} when a non-finite gradient stopped training (no skip policy).
     */
    static StepLog.Row fit(MultiLayerNetwork net, DataSet batch, StepLog log, double lossDivisor, PrintWriter out) {
        try {
            net.fit(batch);
        } catch (NonFiniteGradientException e) {
            out.println();
            out.println("Training stopped at step " + (log.rows().size() + 1) + ": " + e.getMessage()
                    + " (add skip-nonfinite to --clip to skip such steps)");
            return null;
        }
        return log.record(net.score() / lossDivisor);
    }

    /** Writes metrics.csv, clipping.csv (clipped runs) and the loss and gradient-norm charts; prints where. */
    void writeTrainingOutputs(StepLog log, String lossTitle) throws java.io.IOException {
        Path dir = outDir();
        log.writeCsv(dir.resolve("metrics.csv"));
        if (!clipSpec().isNone()) {
            log.history().writeCsv(dir.resolve("clipping.csv"));
        }
        Charts.loss(dir.resolve("loss.png"), spec.name() + ": training loss (" + cell.name() + ", clip " + clip + ")",
                lossTitle, log);
        Charts.gradientNorms(dir.resolve("grad-norm.png"), spec.name() + ": gradient norm (clip " + clip + ")", log,
                clipSpec().globalThreshold());
    }
}
