package org.dl4jclipping.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A training run's checkpoint, enough to continue it bit-identically: the network with its updater state (which
 * holds the clipping state) through {@link ModelSerializer}, and the run's own state (steps done, training time
 * spent, the data and sampling generators, the metrics so far) as {@code checkpoint.state}. Both files are written
 * to a temporary name and moved into place, so that an interrupted write leaves the previous checkpoint intact.
 *
 * <p>Not kept: the ClipHistory's per-layer norms of the steps before the checkpoint (clipping.csv of a resumed run
 * starts at the resume) and the count of consecutive skipped steps (a resumed run starts at 0).
 */
final class Checkpoint {

    static final String MODEL = "checkpoint.zip";
    static final String STATE = "checkpoint.state";

    /** The run's own state. */
    record State(int step, long trainingNanos, int seqLength, int batch, Random data, Random sampling,
                 List<StepLog.Row> rows) implements Serializable {
    }

    private Checkpoint() {
    }

    static void write(Path dir, MultiLayerNetwork net, State state) throws IOException {
        Files.createDirectories(dir);
        Path model = dir.resolve(MODEL + ".tmp");
        ModelSerializer.writeModel(net, model.toFile(), true);
        Path stateFile = dir.resolve(STATE + ".tmp");
        try (OutputStream out = Files.newOutputStream(stateFile); ObjectOutputStream oos = new ObjectOutputStream(out)) {
            oos.writeObject(new State(state.step(), state.trainingNanos(), state.seqLength(), state.batch(),
                    state.data(), state.sampling(), new ArrayList<>(state.rows())));
        }
        Files.move(model, dir.resolve(MODEL), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(stateFile, dir.resolve(STATE), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    static MultiLayerNetwork network(Path dir) throws IOException {
        return ModelSerializer.restoreMultiLayerNetwork(existing(dir, MODEL).toFile(), true);
    }

    static State state(Path dir) throws IOException {
        try (InputStream in = Files.newInputStream(existing(dir, STATE)); ObjectInputStream ois = new ObjectInputStream(in)) {
            return (State) ois.readObject();
        } catch (ClassNotFoundException | ClassCastException e) {
            throw new UserError(dir.resolve(STATE) + " is not a checkpoint of this version of char-lm: " + e);
        }
    }

    private static Path existing(Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new UserError("--resume " + dir + ": no " + name + " there (a char-lm run writes it into its "
                    + "--out folder every --checkpoint-minutes and at the end)");
        }
        return file;
    }
}
