package org.dl4jclipping.rnn.models;

import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A character (or token) language model: stacked LSTM or GRU layers and a softmax over the vocabulary at every
 * time step, trained with cross-entropy (MCXENT) on the next character, clipped, with truncated BPTT.
 *
 * <pre>{@code
 * MultiLayerNetwork net = CharLanguageModel.builder()
 *         .vocabularySize(65)
 *         .cell(Cell.GRU)
 *         .network();                 // initialised, ClippingListener already added
 * net.fit(iterator);                  // features [mb, 65, T] one-hot, labels [mb, 65, T] one-hot (next char)
 * }</pre>
 *
 * <p>Layers: [{@code EmbeddingSequenceLayer(vocabularySize -> embedding)} when {@link Builder#embedding(int)}
 * &gt; 0], {@code depth} x {@code cell(nIn -> width)}, {@code RnnOutputLayer(width -> vocabularySize)} softmax,
 * MCXENT. Input: one-hot {@code [minibatch, vocabularySize, T]}, or with an embedding the character indices as
 * {@code [minibatch, 1, T]} (3-D, so that truncated BPTT can cut it). Labels: one-hot
 * {@code [minibatch, vocabularySize, T]}. Feature and label masks {@code [minibatch, T]} are honoured.
 *
 * <p>Defaults (differing from {@link SequenceModelBuilder}'s): width 256, depth 2, truncated BPTT of 64 steps
 * forward and backward, {@code Adam(2e-3)} (the learning rate of Karpathy's char-rnn). Also: cell LSTM, clip
 * {@code Clip.globalNorm(1.0)}, seed 42, dropout 0, FLOAT, no embedding. {@code vocabularySize} has no default.
 */
public final class CharLanguageModel {

    private CharLanguageModel() {
    }

    /** A builder with the defaults listed above; {@code vocabularySize} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Immutable builder: every setter returns a new builder. */
    public static final class Builder extends SequenceModelBuilder<Builder> {

        private int vocabularySize;
        private int tbpttLength = 64;
        private int embedding;

        private Builder() {
            width = 256;
            depth = 2;
            updater = new Adam(2e-3);
        }

        @Override
        String name() {
            return "CharLanguageModel";
        }

        /** Number of distinct characters (tokens), &gt;= 2; required. */
        public Builder vocabularySize(int vocabularySize) {
            return with(b -> b.vocabularySize = vocabularySize);
        }

        /**
         * Truncated BPTT segment length (forward = backward), &gt;= 0; default 64; 0 = full backpropagation
         * through time over the whole sequence. Each segment's update is one clipping step.
         */
        public Builder tbpttLength(int tbpttLength) {
            return with(b -> b.tbpttLength = tbpttLength);
        }

        /**
         * Size of a learned character embedding ({@code EmbeddingSequenceLayer}) in front of the recurrent
         * layers, &gt;= 0; default 0 = none (one-hot input). With an embedding, the input is the character indices
         * {@code [minibatch, 1, T]} instead of one-hot vectors.
         */
        public Builder embedding(int dim) {
            return with(b -> b.embedding = dim);
        }

        /** @return the vocabulary size (0 = not set) */
        public int getVocabularySize() {
            return vocabularySize;
        }

        /** @return the truncated BPTT length, 0 = full BPTT */
        public int getTbpttLength() {
            return tbpttLength;
        }

        /** @return the embedding size, 0 = one-hot input */
        public int getEmbedding() {
            return embedding;
        }

        @Override
        void validateOwn() {
            required("vocabularySize", vocabularySize, 2);
            atLeast("tbpttLength", tbpttLength, 0);
            atLeast("embedding", embedding, 0);
        }

        @Override
        MultiLayerConfiguration configure(NeuralNetConfiguration.ListBuilder list) {
            long nIn = vocabularySize;
            boolean first = true;
            if (embedding > 0) {
                list.layer(new EmbeddingSequenceLayer.Builder().nIn(vocabularySize).nOut(embedding)
                        .outputDataFormat(RNNFormat.NCW).build());
                nIn = embedding;
                first = false;
            }
            addRecurrentStack(list, nIn, first, false);
            list.layer(withDropout(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .activation(Activation.SOFTMAX).nIn(getWidth()).nOut(vocabularySize)
                    .dataFormat(RNNFormat.NCW).build(), false));
            if (tbpttLength > 0) {
                list.backpropType(BackpropType.TruncatedBPTT).tBPTTForwardLength(tbpttLength)
                        .tBPTTBackwardLength(tbpttLength);
            }
            return list.build();
        }
    }
}
