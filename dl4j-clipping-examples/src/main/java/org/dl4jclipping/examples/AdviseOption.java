package org.dl4jclipping.examples;

import java.io.PrintWriter;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.advice.Advice;
import org.dl4jclipping.advice.ThresholdAdvisor;
import picocli.CommandLine.Option;

/**
 * The {@code --advise[=N]} option of {@code char-lm}, {@code forecast} and {@code classify}: after the first
 * {@code N} steps of the run (default {@value #DEFAULT_WARMUP}, or the whole run when it is shorter), prints
 * {@link ThresholdAdvisor}'s recommended thresholds, from the run's {@code ClipHistory} and the network's
 * parameter count. Training then goes on unchanged. The advisor wants the norms the network really produces, so
 * the warm-up is best run with {@code --clip none} or a loose threshold; the history records the norms
 * <em>before</em> clipping in any case.
 */
final class AdviseOption {

    static final int DEFAULT_WARMUP = 50;

    @Option(names = "--advise", arity = "0..1", paramLabel = "N", fallbackValue = "" + DEFAULT_WARMUP,
            description = "After the first N steps (default " + DEFAULT_WARMUP + ", or the whole run if shorter), "
                    + "print recommended clipping thresholds from the gradient norms seen so far (ThresholdAdvisor).")
    Integer warmup;

    private boolean done;

    /** Call after every finished step; prints the advice once, at step {@code min(N, totalSteps)}. */
    void afterStep(int step, int totalSteps, StepLog log, MultiLayerNetwork net, PrintWriter out) {
        if (warmup == null || done || step < Math.min(Math.max(1, warmup), totalSteps)) {
            return;
        }
        done = true;
        out.println();
        try {
            Advice advice = ThresholdAdvisor.advise(log.history(), net.numParams());
            out.printf("threshold advice after %d warm-up steps (%,d parameters):%n", step, net.numParams());
            out.println(advice.toTable());
        } catch (IllegalArgumentException e) {
            out.println("threshold advice after " + step + " steps: none (" + e.getMessage() + ")");
        }
        out.flush();
    }
}
