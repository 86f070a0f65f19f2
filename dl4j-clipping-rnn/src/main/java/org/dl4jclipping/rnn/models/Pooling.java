package org.dl4jclipping.rnn.models;

/** How a {@link SequenceClassifier} reduces the sequence of hidden states to one vector. */
public enum Pooling {
    /**
     * The hidden state at the last step (DL4J's {@code LastTimeStep} wrapper); with a feature mask, the last
     * unmasked step of each sequence.
     */
    LAST,
    /** The mean over the steps ({@code GlobalPoolingLayer}, AVG); masked steps are left out of the mean. */
    MEAN,
    /** The element-wise maximum over the steps ({@code GlobalPoolingLayer}, MAX); masked steps are left out. */
    MAX
}
