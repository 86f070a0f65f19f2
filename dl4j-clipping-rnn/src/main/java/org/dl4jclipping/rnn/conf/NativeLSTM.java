package org.dl4jclipping.rnn.conf;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import lombok.ToString;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.api.layers.LayerConstraint;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.dl4jclipping.rnn.layers.NativeLSTMLayer;
import org.dl4jclipping.rnn.params.NativeLSTMParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMActivations;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Configuration of a fast LSTM layer: on ND4J's CPU backend its time loop calls BLAS and fused Java loops only (no
 * ND4J op per time step; see {@code LstmCpuKernel}); on a GPU backend its forward pass is one libnd4j call
 * ({@code lstmLayer}) over the whole sequence and its backward pass large GEMMs over all steps (not libnd4j's
 * {@code lstmLayer_bp}, which leaks native memory on every call in ND4J 1.0.0-M2.1). Exactly the equations and
 * parameters of DL4J's
 * {@link org.deeplearning4j.nn.conf.layers.LSTM} (no peepholes), which are PyTorch's {@code nn.LSTM} with a single
 * bias vector:
 * <pre>
 *   i  = σ(x·W_i + h·RW_i + b_i)        input gate
 *   f  = σ(x·W_f + h·RW_f + b_f)        forget gate
 *   o  = σ(x·W_o + h·RW_o + b_o)        output gate
 *   g  = a(x·W_g + h·RW_g + b_g)        block input
 *   c' = f ⊙ c + i ⊙ g,     h' = o ⊙ a(c')
 * </pre>
 * σ is the gate activation (default sigmoid), a the activation (default tanh; the network-wide default activation
 * does not override it). Both must be one of tanh, sigmoid, softsign, softplus: the activations libnd4j's op
 * computes without extra arguments, each checked against DL4J's LSTM in the tests. Anything else fails in
 * {@link Builder#build()}.
 *
 * <p>Parameters: DL4J's LSTM layout, keys and initialisation, so that a network built with this layer and the same
 * seed starts from the same numbers as one built with DL4J's LSTM, and parameters move between the two unchanged:
 * {@code "W"} [nIn, 4·nOut], {@code "RW"} [nOut, 4·nOut], {@code "b"} [4·nOut], gate blocks in DL4J's order
 * (g, f, o, i); the forget-gate bias starts at {@code forgetGateBiasInit} (default 1.0), the other biases at 0.
 * PyTorch's {@code weight_ih_l0} (gates i, f, g, o) maps to {@code W} by transposing and reordering the blocks;
 * its two biases add into {@code b}.
 *
 * <p>Data: NCW ([minibatch, size, time], default) or NWC.
 * Masks: the GPU path's op takes sequence lengths (and both paths give the same results), so a mask
 * [minibatch, time] is accepted when every row is ones followed by zeros (padding at the end, the usual case); its output at padded steps is zero and they contribute no gradient,
 * as in DL4J's LSTM. Any other mask (a gap, a value other than 0 and 1) fails with a message naming the layer.
 * Truncated BPTT (the state carried between segments, also with a backward length shorter than the forward one, also
 * with masks),
 * {@code rnnTimeStep}, {@code Bidirectional} and {@code LastTimeStep} are supported; {@code MultiLayerNetwork} and
 * {@code ComputationGraph}, JSON and {@code ModelSerializer} work as for any DL4J layer.
 *
 * <p>Speed: see {@code docs/rnn.md}. References: S. Hochreiter, J. Schmidhuber, "Long Short-Term Memory", 1997;
 * F. Gers et al. 2000 (forget gate); libnd4j {@code lstmLayer}; PyTorch {@code torch.nn.LSTM}.
 */
@Getter
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public final class NativeLSTM extends BaseRecurrentLayer {

    private static final long serialVersionUID = 1L;

    /** Initial value of the forget-gate biases; default 1.0 (DL4J's LSTM default). */
    private double forgetGateBiasInit;
    /** Activation of the input, forget and output gates (σ); default sigmoid. */
    private IActivation gateActivationFn;

    private NativeLSTM(Builder builder) {
        super(builder);
        this.forgetGateBiasInit = builder.forgetGateBiasInit;
        this.gateActivationFn = builder.gateActivationFn;
        initializeConstraints(builder);
    }

    /** For JSON deserialisation only. */
    private NativeLSTM() {
        this.forgetGateBiasInit = 1.0;
        this.gateActivationFn = new ActivationSigmoid();
    }

    @Override
    protected void initializeConstraints(Layer.Builder<?> builder) {
        super.initializeConstraints(builder);
        if (builder instanceof Builder) {
            Builder b = (Builder) builder;
            addConstraints(b.getRecurrentConstraints(), NativeLSTMParamInitializer.RECURRENT_WEIGHT_KEY);
            addConstraints(b.getInputWeightConstraints(), NativeLSTMParamInitializer.INPUT_WEIGHT_KEY);
        }
    }

    private void addConstraints(List<LayerConstraint> source, String paramKey) {
        if (source == null || source.isEmpty()) {
            return;
        }
        if (constraints == null) {
            constraints = new ArrayList<>();
        }
        for (LayerConstraint c : source) {
            LayerConstraint copy = c.clone();
            copy.setParams(Collections.singleton(paramKey));
            constraints.add(copy);
        }
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                        Collection<TrainingListener> trainingListeners,
                                                        int layerIndex, INDArray layerParamsView,
                                                        boolean initializeParams, DataType networkDataType) {
        requirePositive(layerName, "nIn", getNIn(), " (set nIn or let setInputType infer it)");
        requirePositive(layerName, "nOut", getNOut(), "");
        NativeLSTMLayer layer = new NativeLSTMLayer(conf, networkDataType);
        layer.setListeners(trainingListeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        Map<String, INDArray> params = initializer().init(conf, layerParamsView, initializeParams);
        layer.setParamTable(params);
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return NativeLSTMParamInitializer.getInstance();
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        InputType outputType = getOutputType(-1, inputType);
        long numParams = initializer().numParams(this);
        long updaterState = getIUpdater() == null ? 0 : getIUpdater().stateSize(numParams);
        long t = inputType instanceof InputType.InputTypeRecurrent
                ? Math.max(1, ((InputType.InputTypeRecurrent) inputType).getTimeSeriesLength()) : 1;
        // Per example: the op's gates and cell states (inference: output only; training: the backward op keeps
        // 4 gates and 2 states per step) and the reordered weights (fixed).
        long perExInference = t * getNOut();
        long perExTrain = t * (getNIn() + 7 * getNOut());
        long fixed = 2 * numParams;
        return new LayerMemoryReport.Builder(layerName, NativeLSTMLayer.class, inputType, outputType)
                .standardMemory(numParams, updaterState)
                .workingMemory(fixed, perExInference, MemoryReport.CACHE_MODE_ALL_ZEROS,
                        MemoryReport.cacheModeMapFor(perExTrain))
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    /**
     * The libnd4j activation that computes {@code fn}, or an {@link IllegalArgumentException} naming the layer,
     * the field, the value and the supported ones.
     */
    public static LSTMActivations nativeActivation(String layerName, String field, IActivation fn) {
        if (fn != null) {
            if (fn.getClass() == ActivationTanH.class) {
                return LSTMActivations.TANH;
            }
            if (fn.getClass() == ActivationSigmoid.class) {
                return LSTMActivations.SIGMOID;
            }
            if (fn.getClass() == ActivationSoftSign.class) {
                return LSTMActivations.SOFTSIGN;
            }
            if (fn.getClass() == ActivationSoftPlus.class) {
                return LSTMActivations.SOFTPLUS;
            }
        }
        throw new IllegalArgumentException("NativeLSTM" + (layerName == null ? "" : " '" + layerName + "'") + ": "
                + field + " must be one of tanh, sigmoid, softsign, softplus (the activations the native op "
                + "computes), got " + fn + "; use DL4J's LSTM for other activations");
    }

    static void requirePositive(String layerName, String field, long value, String hint) {
        if (value <= 0) {
            throw new IllegalArgumentException("NativeLSTM" + (layerName == null ? "" : " '" + layerName + "'")
                    + ": " + field + " must be > 0" + hint + ", got " + value);
        }
    }

    /**
     * Builder, used like DL4J's {@code LSTM.Builder}: {@code new NativeLSTM.Builder().nIn(3).nOut(8).build()}.
     * Defaults: activation tanh, gate activation sigmoid, forget-gate bias 1.0, NCW; weight init, dropout, updater
     * and regularisation come from the network configuration unless set here.
     */
    public static final class Builder extends BaseRecurrentLayer.Builder<Builder> {

        private double forgetGateBiasInit = 1.0;
        private IActivation gateActivationFn = new ActivationSigmoid();

        public Builder() {
            this.activationFn = new ActivationTanH();
        }

        /** Initial forget-gate bias (any finite value; 1.0 by default, larger values help long dependencies). */
        public Builder forgetGateBiasInit(double value) {
            if (!Double.isFinite(value)) {
                throw new IllegalArgumentException("NativeLSTM: forgetGateBiasInit must be finite, got " + value);
            }
            this.forgetGateBiasInit = value;
            return this;
        }

        /** Gate activation (σ in the equations): sigmoid, tanh, softsign or softplus. */
        public Builder gateActivationFunction(Activation activation) {
            if (activation == null) {
                throw new IllegalArgumentException("NativeLSTM: gateActivationFunction must not be null");
            }
            return gateActivationFunction(activation.getActivationFunction());
        }

        /** Gate activation (σ in the equations): sigmoid, tanh, softsign or softplus. */
        public Builder gateActivationFunction(IActivation activation) {
            this.gateActivationFn = activation;
            return this;
        }

        @Override
        public NativeLSTM build() {
            if (nIn < 0) {
                throw new IllegalArgumentException("NativeLSTM: nIn must be >= 0 (0 = inferred from the input type), "
                        + "got " + nIn);
            }
            requirePositive(layerName, "nOut", nOut, "");
            nativeActivation(layerName, "activation", activationFn);
            nativeActivation(layerName, "gateActivationFunction", gateActivationFn);
            return new NativeLSTM(this);
        }
    }
}
