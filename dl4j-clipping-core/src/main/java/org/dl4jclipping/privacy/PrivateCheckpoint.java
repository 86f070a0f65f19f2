package org.dl4jclipping.privacy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jclipping.strategy.Check;

/**
 * A model saved with the privacy budget its training spent: {@code ModelSerializer}'s zip (parameters,
 * configuration, updater state) plus the accountant's phases {@code {q, sigma, steps}} as an extra entry
 * ({@value #KEY}). Restore the network with {@code ModelSerializer.restoreMultiLayerNetwork(file, true)} (a graph
 * with {@code ModelSerializer.restoreComputationGraph(file, true)}) and the budget with {@link #accountant(File)},
 * then continue with {@code PrivateTraining.builder()...spent(accountant)}: the next step's epsilon is then what an
 * uninterrupted run would report.
 */
public final class PrivateCheckpoint {

    /** The entry in the model file holding the phases. */
    public static final String KEY = "dl4j-clipping-privacy-phases";

    private PrivateCheckpoint() {
    }

    /** Writes {@code net} (with its updater state) and {@code training}'s spent budget to {@code file}. */
    public static void save(MultiLayerNetwork net, PrivateTraining training, File file) {
        Check.notNull("net", net);
        write(net, training, file);
    }

    /** Writes {@code graph} (with its updater state) and {@code training}'s spent budget to {@code file}. */
    public static void save(ComputationGraph graph, PrivateTraining training, File file) {
        Check.notNull("graph", graph);
        write(graph, training, file);
    }

    private static void write(Model net, PrivateTraining training, File file) {
        Check.notNull("training", training);
        Check.notNull("file", file);
        try {
            ModelSerializer.writeModel(net, file, true);
            ModelSerializer.addObjectToFile(file, KEY, training.accountant().phases());
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write the private model to " + file, e);
        }
    }

    /**
     * The accountant saved in {@code file} by {@link #save}.
     *
     * @throws IllegalArgumentException if the file has no privacy entry (a model saved without it: its budget is
     *                                  unknown, and training it further privately cannot be accounted)
     */
    public static PrivacyAccountant accountant(File file) {
        Check.notNull("file", file);
        if (!ModelSerializer.listObjectsInFile(file).contains(KEY)) {
            throw new IllegalArgumentException(file + " holds no privacy budget (no \"" + KEY + "\" entry): it was "
                    + "not saved by PrivateCheckpoint.save, so the epsilon its training spent is unknown");
        }
        double[][] phases = ModelSerializer.getObjectFromFile(file, KEY);
        return PrivacyAccountant.fromPhases(phases);
    }
}
