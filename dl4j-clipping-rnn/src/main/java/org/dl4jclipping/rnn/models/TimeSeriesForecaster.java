package org.dl4jclipping.rnn.models;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A multivariate time-series forecaster: reads a window {@code [minibatch, features, T]} and predicts the next
 * {@code horizon} steps of all {@code features} at once, from the hidden state of the last time step. Regression:
 * identity output, mean squared error. Clipped.
 *
 * <pre>{@code
 * MultiLayerNetwork net = TimeSeriesForecaster.builder()
 *         .features(3).horizon(12)
 *         .network();                 // initialised, ClippingListener already added
 * net.fit(new DataSet(windows, TimeSeriesForecaster.flatten(targets)));   // targets [mb, 3, 12]
 * INDArray forecast = TimeSeriesForecaster.unflatten(net.output(window), 3);  // [mb, 3, 12]
 * }</pre>
 *
 * <p>Design: {@code depth - 1} recurrent layers, the last one wrapped in DL4J's {@code LastTimeStep}, then one
 * {@code OutputLayer(width -> horizon·features)}, identity, MSE. All {@code horizon} steps come out of one
 * forward pass ("multi-output" direct strategy); a horizon of 1 is the one-step-ahead forecaster. We chose this
 * over an {@code RnnOutputLayer} per step because the forecast then depends on the whole window and the steps
 * ahead are predicted jointly, without feeding predictions back. Labels are 2-D
 * {@code [minibatch, horizon·features]} in step-major order: column {@code s·features + f} is feature {@code f}
 * at {@code s + 1} steps after the window ({@link #flatten(INDArray)} and {@link #unflatten(INDArray, int)}
 * convert from and to {@code [minibatch, features, horizon]}). A feature mask {@code [minibatch, T]} is honoured
 * (the last unmasked step of each window is used). Because the labels are not sequences, DL4J's truncated BPTT
 * does not apply: the window is backpropagated in full, so keep windows to the length the model must see.
 *
 * <p>Defaults: horizon 1, cell LSTM, width 128, depth 1, {@code Adam(1e-3)}, clip {@code Clip.globalNorm(1.0)},
 * seed 42, dropout 0, FLOAT. {@code features} has no default.
 */
public final class TimeSeriesForecaster {

    private TimeSeriesForecaster() {
    }

    /** A builder with the defaults listed above; {@code features} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Targets {@code [minibatch, features, horizon]} to the 2-D labels of the network,
     * {@code [minibatch, horizon·features]}, step-major.
     */
    public static INDArray flatten(INDArray targets) {
        if (targets.rank() != 3) {
            throw new IllegalArgumentException("targets must be [minibatch, features, horizon], got rank "
                    + targets.rank());
        }
        long mb = targets.size(0);
        return targets.permute(0, 2, 1).dup('c').reshape('c', mb, targets.size(1) * targets.size(2));
    }

    /** The network's output {@code [minibatch, horizon·features]} as {@code [minibatch, features, horizon]}. */
    public static INDArray unflatten(INDArray output, int features) {
        if (output.rank() != 2 || features < 1 || output.size(1) % features != 0) {
            throw new IllegalArgumentException("output must be [minibatch, horizon*features] with features = "
                    + features + ", got shape " + java.util.Arrays.toString(output.shape()));
        }
        long mb = output.size(0);
        long horizon = output.size(1) / features;
        return output.dup('c').reshape('c', mb, horizon, features).permute(0, 2, 1).dup('c');
    }

    /** Immutable builder: every setter returns a new builder. */
    public static final class Builder extends SequenceModelBuilder<Builder> {

        private int features;
        private int horizon = 1;

        private Builder() {
        }

        @Override
        String name() {
            return "TimeSeriesForecaster";
        }

        /** Number of variables per time step (input and forecast), &gt;= 1; required. */
        public Builder features(int features) {
            return with(b -> b.features = features);
        }

        /** Steps predicted ahead, &gt;= 1; default 1 (one-step-ahead). */
        public Builder horizon(int horizon) {
            return with(b -> b.horizon = horizon);
        }

        /** @return the number of features (0 = not set) */
        public int getFeatures() {
            return features;
        }

        /** @return the forecast horizon */
        public int getHorizon() {
            return horizon;
        }

        @Override
        void validateOwn() {
            required("features", features, 1);
            atLeast("horizon", horizon, 1);
            if ((long) horizon * features > Integer.MAX_VALUE) {
                throw outOfRange("horizon", horizon, "horizon * features must be <= " + Integer.MAX_VALUE);
            }
        }

        @Override
        MultiLayerConfiguration configure(NeuralNetConfiguration.ListBuilder list) {
            addRecurrentStack(list, features, true, true);
            list.layer(withDropout(new OutputLayer.Builder(LossFunctions.LossFunction.MSE)
                    .activation(Activation.IDENTITY).nIn(getWidth()).nOut((long) horizon * features).build(), false));
            list.setInputType(InputType.recurrent(features));
            return list.build();
        }
    }
}
