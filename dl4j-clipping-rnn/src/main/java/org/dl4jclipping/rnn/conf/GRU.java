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
import org.dl4jclipping.rnn.layers.GRULayer;
import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;

/**
 * Configuration of a gated recurrent unit (GRU) layer, with exactly the equations of PyTorch's {@code nn.GRU}
 * (the cuDNN variant, where the reset gate multiplies the recurrent projection <em>after</em> its bias).
 *
 * <p>For an input step {@code x} (row vector of length nIn) and previous hidden state {@code h} (length nOut):
 * <pre>
 *   r  = σ(x·W_r + b_ir + h·RW_r + b_hr)              reset gate
 *   z  = σ(x·W_z + b_iz + h·RW_z + b_hz)              update gate
 *   n  = g(x·W_n + b_in + r ⊙ (h·RW_n + b_hn))        candidate
 *   h' = (1 − z) ⊙ n + z ⊙ h
 * </pre>
 * σ is the gate activation ({@link #getGateActivationFn()}, default sigmoid), g the activation
 * ({@code activation(...)}, default tanh; the network-wide default activation does not override it).
 * Both must be element-wise functions.
 *
 * <p>Parameters (see {@link GRUParamInitializer}), gate blocks in the order r, z, n:
 * <ul>
 *   <li>{@code "W"}  input weights     [nIn, 3·nOut]  = PyTorch {@code weight_ih_l0}ᵀ</li>
 *   <li>{@code "RW"} recurrent weights [nOut, 3·nOut] = PyTorch {@code weight_hh_l0}ᵀ</li>
 *   <li>{@code "b"}  input bias        [1, 3·nOut]    = PyTorch {@code bias_ih_l0}</li>
 *   <li>{@code "rb"} recurrent bias    [1, 3·nOut]    = PyTorch {@code bias_hh_l0}</li>
 * </ul>
 * Weights are drawn by {@code weightInit} (and {@code weightInitRecurrent} for RW when set) with fan-in/fan-out
 * of one gate block; both biases are set to {@code biasInit} (network default 0).
 *
 * <p>Data: {@link org.deeplearning4j.nn.conf.RNNFormat#NCW} ([minibatch, size, time], the default) or
 * {@link org.deeplearning4j.nn.conf.RNNFormat#NWC} via {@code dataFormat(...)}. Masks ([minibatch, time]) follow
 * DL4J's LSTM: at a masked step the output and the carried hidden state are zero, and the step contributes no
 * gradient. Truncated BPTT, {@code rnnTimeStep}, {@code Bidirectional} and {@code LastTimeStep} are supported.
 *
 * <p>Validation: {@code nOut} must be &gt; 0; {@code nIn} must be &ge; 0 at build time (0 = inferred from the input
 * type) and &gt; 0 when the layer is instantiated. Violations throw {@link IllegalArgumentException}.
 *
 * <p>References: K. Cho et al., "Learning Phrase Representations using RNN Encoder–Decoder for Statistical
 * Machine Translation", EMNLP 2014 (arXiv:1406.1078); PyTorch documentation of {@code torch.nn.GRU}.
 */
@Getter
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public final class GRU extends BaseRecurrentLayer {

    private static final long serialVersionUID = 1L;

    /** Activation of the reset and update gates (σ); default sigmoid. */
    private IActivation gateActivationFn;

    private GRU(Builder builder) {
        super(builder);
        this.gateActivationFn = builder.gateActivationFn;
        initializeConstraints(builder);
    }

    /** For JSON deserialisation only. */
    private GRU() {
        this.gateActivationFn = new ActivationSigmoid();
    }

    @Override
    protected void initializeConstraints(Layer.Builder<?> builder) {
        super.initializeConstraints(builder);
        if (!(builder instanceof Builder)) {
            return;
        }
        Builder b = (Builder) builder;
        addConstraints(b.getRecurrentConstraints(), GRUParamInitializer.RECURRENT_WEIGHT_KEY);
        addConstraints(b.getInputWeightConstraints(), GRUParamInitializer.INPUT_WEIGHT_KEY);
    }

    private void addConstraints(java.util.List<LayerConstraint> source, String paramKey) {
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
        requirePositive("nIn", getNIn(), " (set nIn or let setInputType infer it)");
        requirePositive("nOut", getNOut(), "");
        GRULayer layer = new GRULayer(conf, networkDataType);
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
        return GRUParamInitializer.getInstance();
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        InputType outputType = getOutputType(-1, inputType);
        long numParams = initializer().numParams(this);
        long updaterState = getIUpdater() == null ? 0 : getIUpdater().stateSize(numParams);
        long t = inputType instanceof InputType.InputTypeRecurrent
                ? Math.max(1, ((InputType.InputTypeRecurrent) inputType).getTimeSeriesLength()) : 1;
        // Per example: input copy, 3 gate pre-activations, 3 activations, n-part of the recurrent projection,
        // hidden states (training); gate pre-activations and hidden states (inference).
        long perExInference = t * (getNIn() + 4 * getNOut());
        long perExTrain = t * (getNIn() + 12 * getNOut());
        return new LayerMemoryReport.Builder(layerName, GRULayer.class, inputType, outputType)
                .standardMemory(numParams, updaterState)
                .workingMemory(0, perExInference, MemoryReport.CACHE_MODE_ALL_ZEROS,
                        MemoryReport.cacheModeMapFor(perExTrain))
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    static void requirePositive(String field, long value, String hint) {
        if (value <= 0) {
            throw new IllegalArgumentException("GRU: " + field + " must be > 0" + hint + ", got " + value);
        }
    }

    /**
     * Builder, used like DL4J's {@code LSTM.Builder}: {@code new GRU.Builder().nIn(3).nOut(8).build()}.
     * Defaults: activation tanh, gate activation sigmoid, NCW data format; weight init, bias init (0), dropout,
     * updater and regularisation come from the network configuration unless set here.
     */
    public static final class Builder extends BaseRecurrentLayer.Builder<Builder> {

        private IActivation gateActivationFn = new ActivationSigmoid();

        public Builder() {
            this.activationFn = new ActivationTanH();
        }

        /** Gate activation (σ in the equations) by name, e.g. "sigmoid". */
        public Builder gateActivationFunction(String name) {
            return gateActivationFunction(Activation.fromString(name));
        }

        /** Gate activation (σ in the equations). */
        public Builder gateActivationFunction(Activation activation) {
            if (activation == null) {
                throw new IllegalArgumentException("GRU: gateActivationFunction must not be null");
            }
            return gateActivationFunction(activation.getActivationFunction());
        }

        /** Gate activation (σ in the equations); must be element-wise. */
        public Builder gateActivationFunction(IActivation activation) {
            if (activation == null) {
                throw new IllegalArgumentException("GRU: gateActivationFunction must not be null");
            }
            this.gateActivationFn = activation;
            return this;
        }

        @Override
        public GRU build() {
            if (nIn < 0) {
                throw new IllegalArgumentException("GRU: nIn must be >= 0 (0 = inferred from the input type), got "
                        + nIn);
            }
            requirePositive("nOut", nOut, "");
            if (activationFn == null) {
                throw new IllegalArgumentException("GRU: activation must not be null");
            }
            return new GRU(this);
        }
    }
}
