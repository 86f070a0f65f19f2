package org.dl4jclipping.examples;

import java.nio.file.Path;
import java.util.Random;
import java.util.TreeSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A text as character indices: vocabulary, the first 90% for training, the last 10% held out for validation;
 * random one-hot minibatches {@code [batch, vocab, time]}, validation loss in bits per character, sampling.
 */
final class CharCorpus {

    static final String BUNDLED = "/data/tinyshakespeare.txt";

    final String name;
    final char[] vocab;
    private final int[] index = new int[Character.MAX_VALUE + 1];
    private final int[] train;
    private final int[] valid;

    private CharCorpus(String name, String text, int minLength) {
        if (text.length() < minLength) {
            throw new UserError(name + ": only " + text.length() + " characters; need at least " + minLength
                    + " (90% to train, 10% to validate)");
        }
        this.name = name;
        TreeSet<Character> chars = new TreeSet<>();
        for (int i = 0; i < text.length(); i++) {
            chars.add(text.charAt(i));
        }
        vocab = new char[chars.size()];
        int k = 0;
        for (char c : chars) {
            index[c] = k;
            vocab[k++] = c;
        }
        int split = (int) Math.round(text.length() * 0.9);
        train = new int[split];
        valid = new int[text.length() - split];
        for (int i = 0; i < text.length(); i++) {
            int c = index[text.charAt(i)];
            if (i < split) {
                train[i] = c;
            } else {
                valid[i - split] = c;
            }
        }
    }

    /** The bundled tiny Shakespeare, or the user's text file. */
    static CharCorpus load(Path file, int seqLength) {
        int min = 20 * (seqLength + 1);
        return file == null ? new CharCorpus("tiny Shakespeare", Data.resourceText(BUNDLED), min)
                : new CharCorpus(file.toString(), Data.text(file), min);
    }

    int vocabSize() {
        return vocab.length;
    }

    int trainLength() {
        return train.length;
    }

    int validLength() {
        return valid.length;
    }

    /** {@code batch} random windows of the training text: one-hot inputs and next-character labels. */
    DataSet batch(Random random, int batch, int length) {
        int[] starts = new int[batch];
        for (int b = 0; b < batch; b++) {
            starts[b] = random.nextInt(train.length - length - 1);
        }
        return oneHot(train, starts, length);
    }

    private DataSet oneHot(int[] text, int[] starts, int length) {
        int v = vocab.length;
        float[] x = new float[starts.length * v * length];
        float[] y = new float[starts.length * v * length];
        for (int b = 0; b < starts.length; b++) {
            for (int t = 0; t < length; t++) {
                x[(b * v + text[starts[b] + t]) * length + t] = 1f;
                y[(b * v + text[starts[b] + t + 1]) * length + t] = 1f;
            }
        }
        long[] shape = {starts.length, v, length};
        return new DataSet(Nd4j.create(x, shape, 'c'), Nd4j.create(y, shape, 'c'));
    }

    /** Mean cross-entropy in bits per character over up to {@code maxWindows} non-overlapping held-out windows. */
    double validationBits(MultiLayerNetwork net, int length, int maxWindows) {
        int windows = Math.min(maxWindows, (valid.length - 1) / length);
        if (windows < 1) {
            length = valid.length - 1;
            windows = 1;
        }
        double nats = 0;
        long count = 0;
        int chunk = 32;
        for (int w0 = 0; w0 < windows; w0 += chunk) {
            int n = Math.min(chunk, windows - w0);
            int[] starts = new int[n];
            for (int i = 0; i < n; i++) {
                starts[i] = (w0 + i) * length;
            }
            DataSet ds = oneHot(valid, starts, length);
            INDArray p = net.output(ds.getFeatures(), false);
            INDArray picked = p.mul(ds.getLabels()).sum(1);   // [n, length]: probability of the true character
            float[] probs = picked.dup('c').data().asFloat();
            for (float pr : probs) {
                nats += -Math.log(Math.max(pr, 1e-12));
                count++;
            }
        }
        net.rnnClearPreviousState();
        return nats / count / Math.log(2);
    }

    /** {@code length} characters sampled at {@code temperature} after {@code prime}. */
    String sample(MultiLayerNetwork net, String prime, int length, double temperature, Random random) {
        net.rnnClearPreviousState();
        int v = vocab.length;
        StringBuilder sb = new StringBuilder();
        INDArray out = null;
        for (char c : prime.toCharArray()) {
            out = net.rnnTimeStep(oneHotStep(index[c]));
        }
        for (int i = 0; i < length; i++) {
            float[] p = out.reshape(v).castTo(DataType.FLOAT).toFloatVector();
            int next = draw(p, temperature, random);
            sb.append(vocab[next]);
            out = net.rnnTimeStep(oneHotStep(next));
        }
        net.rnnClearPreviousState();
        return sb.toString();
    }

    /** A prime that exists in the vocabulary: the first character of the training text. */
    String defaultPrime() {
        return String.valueOf(vocab[train[0]]);
    }

    private INDArray oneHotStep(int c) {
        INDArray x = Nd4j.zeros(DataType.FLOAT, 1, vocab.length);
        x.putScalar(0, c, 1.0);
        return x;
    }

    private static int draw(float[] p, double temperature, Random random) {
        double[] w = new double[p.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            w[i] = Math.exp(Math.log(Math.max(p[i], 1e-12)) / temperature);
            sum += w[i];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < w.length; i++) {
            u -= w[i];
            if (u <= 0) {
                return i;
            }
        }
        return w.length - 1;
    }
}
