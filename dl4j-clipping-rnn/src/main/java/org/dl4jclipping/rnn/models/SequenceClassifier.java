package org.dl4jclipping.rnn.models;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A sequence classifier: one class out of {@code classes} per sequence {@code [minibatch, features, T]}, from the
 * hidden state of the last step or from the mean or maximum over the steps. Softmax output, cross-entropy
 * (MCXENT), clipped.
 *
 * <pre>{@code
 * MultiLayerNetwork net = SequenceClassifier.builder()
 *         .features(40).classes(5)
 *         .pooling(Pooling.MEAN)
 *         .network();                 // initialised, ClippingListener already added
 * net.fit(iterator);   // features [mb, 40, T] (+ feature mask [mb, T] for padded sequences), labels [mb, 5]
 * }</pre>
 *
 * <p>Layers: {@link Pooling#LAST}: {@code depth - 1} recurrent layers and a last one wrapped in DL4J's
 * {@code LastTimeStep}; {@link Pooling#MEAN} / {@link Pooling#MAX}: {@code depth} recurrent layers and a
 * {@code GlobalPoolingLayer} (AVG / MAX over time); then {@code OutputLayer(width -> classes)}, softmax, MCXENT.
 * Labels are one-hot {@code [minibatch, classes]}. A feature mask {@code [minibatch, T]} is honoured by all three
 * poolings: padded steps change neither the prediction nor the gradient (LAST takes each sequence's last
 * unmasked step). Labels are not sequences, so DL4J's truncated BPTT does not apply: sequences are
 * backpropagated in full.
 *
 * <p>Defaults: pooling LAST, cell LSTM, width 128, depth 1, {@code Adam(1e-3)}, clip {@code Clip.globalNorm(1.0)},
 * seed 42, dropout 0, FLOAT. {@code features} and {@code classes} have no default.
 */
public final class SequenceClassifier {

    private SequenceClassifier() {
    }

    /** A builder with the defaults listed above; {@code features} and {@code classes} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Immutable builder: every setter returns a new builder. */
    public static final class Builder extends SequenceModelBuilder<Builder> {

        private int features;
        private int classes;
        private Pooling pooling = Pooling.LAST;

        private Builder() {
        }

        @Override
        String name() {
            return "SequenceClassifier";
        }

        /** Number of input variables per time step, &gt;= 1; required. */
        public Builder features(int features) {
            return with(b -> b.features = features);
        }

        /** Number of classes, &gt;= 2; required. */
        public Builder classes(int classes) {
            return with(b -> b.classes = classes);
        }

        /** How the steps are reduced to one vector (default {@link Pooling#LAST}). */
        public Builder pooling(Pooling pooling) {
            return with(b -> b.pooling = pooling);
        }

        /** @return the number of features (0 = not set) */
        public int getFeatures() {
            return features;
        }

        /** @return the number of classes (0 = not set) */
        public int getClasses() {
            return classes;
        }

        /** @return the pooling */
        public Pooling getPooling() {
            return pooling;
        }

        @Override
        void validateOwn() {
            required("features", features, 1);
            required("classes", classes, 2);
            notNull("pooling", pooling);
        }

        @Override
        MultiLayerConfiguration configure(NeuralNetConfiguration.ListBuilder list) {
            addRecurrentStack(list, features, true, pooling == Pooling.LAST);
            if (pooling != Pooling.LAST) {
                list.layer(new GlobalPoolingLayer.Builder(pooling == Pooling.MEAN ? PoolingType.AVG : PoolingType.MAX)
                        .build());
            }
            list.layer(withDropout(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .activation(Activation.SOFTMAX).nIn(getWidth()).nOut(classes).build(), false));
            list.setInputType(InputType.recurrent(features));
            return list.build();
        }
    }
}
