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
import org.nd4j.linalg.activations.impl.ActivationPReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;

/**
 * Configuration of a gated recurrent unit (GRU) layer in either of the two variants in use: "reset after"
 * (PyTorch's {@code nn.GRU}, cuDNN's, Keras's {@code reset_after=True}; the default) and "reset before" (Keras's
 * {@code reset_after=False}, Cho et al.'s original form).
 *
 * <p>For an input step {@code x} (row vector of length nIn) and previous hidden state {@code h} (length nOut),
 * with {@code resetAfter(true)} (the default):
 * <pre>
 *   r  = σ(x·W_r + b_ir + h·RW_r + b_hr)              reset gate
 *   z  = σ(x·W_z + b_iz + h·RW_z + b_hz)              update gate
 *   n  = g(x·W_n + b_in + r ⊙ (h·RW_n + b_hn))        candidate: reset applied after the recurrent product
 *   h' = (1 − z) ⊙ n + z ⊙ h
 * </pre>
 * and with {@code resetAfter(false)}, one bias per gate and the reset gate applied to h <em>before</em> the
 * recurrent product of the candidate:
 * <pre>
 *   r  = σ(x·W_r + b_r + h·RW_r)
 *   z  = σ(x·W_z + b_z + h·RW_z)
 *   n  = g(x·W_n + b_n + (r ⊙ h)·RW_n)
 *   h' = (1 − z) ⊙ n + z ⊙ h
 * </pre>
 * σ is the gate activation ({@link #getGateActivationFn()}, default sigmoid), g the activation
 * ({@code activation(...)}, default tanh; the network-wide default activation does not override it).
 * Both must be element-wise functions without parameters (softmax and PReLU are rejected at build time).
 *
 * <p>Parameters (see {@link GRUParamInitializer}), gate blocks in the order r, z, n:
 * <ul>
 *   <li>{@code "W"}  input weights     [nIn, 3·nOut]  = PyTorch {@code weight_ih_l0}ᵀ</li>
 *   <li>{@code "RW"} recurrent weights [nOut, 3·nOut] = PyTorch {@code weight_hh_l0}ᵀ</li>
 *   <li>{@code "b"}  input bias        [1, 3·nOut]    = PyTorch {@code bias_ih_l0}; with {@code resetAfter(false)}
 *       the only bias (b_r, b_z, b_n)</li>
 *   <li>{@code "rb"} recurrent bias    [1, 3·nOut]    = PyTorch {@code bias_hh_l0}; only with
 *       {@code resetAfter(true)}</li>
 * </ul>
 * Weights are drawn by {@code weightInit} (and {@code weightInitRecurrent} for RW when set) with fan-in/fan-out
 * of one gate block; the biases are set to {@code biasInit} (network default 0).
 *
 * <p>Keras ({@code keras.layers.GRU}): {@code kernel} [nIn, 3u] and {@code recurrent_kernel} [u, 3u] hold the gate
 * blocks in the order z, r, h, so W and RW are Keras's with the first two column blocks swapped (likewise each
 * bias row); Keras's {@code h' = z ⊙ h + (1 − z) ⊙ hh} is the same update. {@code reset_after=True} (TF2's
 * default) has a bias [2, 3u]: row 0 is b, row 1 is rb. {@code reset_after=False} (Keras 1/2's default, and any
 * file without the key) has one bias [3u]: b, with {@code resetAfter(false)}. Keras activations map to
 * {@code tanh}, {@code sigmoid}, {@code relu}, {@code linear} = identity, and {@code hard_sigmoid} = DL4J's
 * {@code Activation.HARDSIGMOID} (Keras 2: clip(0.2x + 0.5, 0, 1)) or
 * {@link org.dl4jclipping.rnn.activations.ActivationHardSigmoid6} (Keras 3: clip(x/6 + 0.5, 0, 1)).
 * PyTorch has no reset-before variant.
 *
 * <p>Data: {@link org.deeplearning4j.nn.conf.RNNFormat#NCW} ([minibatch, size, time], the default) or
 * {@link org.deeplearning4j.nn.conf.RNNFormat#NWC} via {@code dataFormat(...)}. Masks ([minibatch, time]) follow
 * DL4J's LSTM: at a masked step the output and the carried hidden state are zero, and the step contributes no
 * gradient. Truncated BPTT, {@code rnnTimeStep}, {@code Bidirectional} and {@code LastTimeStep} are supported.
 *
 * <p>Validation (one method, run by the builder and again when a layer is instantiated, so JSON written by hand
 * is checked too): {@code nOut} must be &gt; 0; {@code nIn} must be &ge; 0 at build time (0 = inferred from the
 * input type) and &gt; 0 when the layer is instantiated; both activations non-null, element-wise and without
 * parameters. Violations throw {@link IllegalArgumentException} naming the field and the value. JSON written
 * before {@code resetAfter} existed reads as {@code resetAfter = true}, the only variant there was.
 *
 * <p>References: K. Cho et al., "Learning Phrase Representations using RNN Encoder–Decoder for Statistical
 * Machine Translation", EMNLP 2014 (arXiv:1406.1078), the reset-before form; PyTorch documentation of
 * {@code torch.nn.GRU}; Keras documentation of {@code keras.layers.GRU} ({@code reset_after}).
 */
@Getter
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public final class GRU extends BaseRecurrentLayer {

    private static final long serialVersionUID = 1L;

    /** Default of {@link #isResetAfter()}: PyTorch's and TF2 Keras's variant. */
    public static final boolean DEFAULT_RESET_AFTER = true;

    /** Activation of the reset and update gates (σ); default sigmoid. */
    private IActivation gateActivationFn;

    /**
     * True (the default): the reset gate multiplies {@code h·RW_n + b_hn} (PyTorch, Keras {@code reset_after=True});
     * false: it multiplies h before {@code RW_n}, and there is no recurrent bias (Keras {@code reset_after=False}).
     */
    private boolean resetAfter;

    private GRU(Builder builder) {
        super(builder);
        this.gateActivationFn = builder.gateActivationFn;
        this.resetAfter = builder.resetAfter;
        initializeConstraints(builder);
    }

    /** For JSON deserialisation only: a field missing from the JSON keeps the value set here. */
    private GRU() {
        this.gateActivationFn = new ActivationSigmoid();
        this.resetAfter = DEFAULT_RESET_AFTER;
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
        validate(getNIn(), getNOut(), getActivationFn(), gateActivationFn);
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
        // Per example: input copy, 3 gate pre-activations, 3 activations, the candidate's recurrent term (h·RW_n +
        // b_hn, or r ⊙ h), hidden states (training); gate pre-activations and hidden states (inference).
        long perExInference = t * (getNIn() + 4 * getNOut());
        long perExTrain = t * (getNIn() + 12 * getNOut());
        return new LayerMemoryReport.Builder(layerName, GRULayer.class, inputType, outputType)
                .standardMemory(numParams, updaterState)
                .workingMemory(0, perExInference, MemoryReport.CACHE_MODE_ALL_ZEROS,
                        MemoryReport.cacheModeMapFor(perExTrain))
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    /**
     * The one validation of a GRU configuration, used by {@link Builder#build()} and by {@link #instantiate} (so that
     * a configuration read from JSON is checked too): {@code nIn} &ge; 0, {@code nOut} &gt; 0, both activations
     * non-null, element-wise (not softmax) and without parameters (not PReLU).
     *
     * @throws IllegalArgumentException naming the field, the rule and the value found
     */
    static void validate(long nIn, long nOut, IActivation activation, IActivation gateActivation) {
        if (nIn < 0) {
            throw new IllegalArgumentException("GRU: nIn must be >= 0 (0 = inferred from the input type), got " + nIn);
        }
        requirePositive("nOut", nOut, "");
        requireElementWise("activation", activation);
        requireElementWise("gateActivationFunction", gateActivation);
    }

    private static void requireElementWise(String field, IActivation fn) {
        if (fn == null) {
            throw new IllegalArgumentException("GRU: " + field + " must not be null");
        }
        if (fn instanceof ActivationSoftmax) {
            throw new IllegalArgumentException("GRU: " + field + " must be an element-wise function, got " + fn
                    + " (softmax couples the units); use e.g. tanh, sigmoid, hardsigmoid, relu or identity");
        }
        if (fn instanceof ActivationPReLU) {
            throw new IllegalArgumentException("GRU: " + field + " must be a function without parameters, got " + fn
                    + " (PReLU's alpha is a parameter the GRU does not hold, shaped for another layer's input); use"
                    + " leakyrelu for a fixed slope");
        }
    }

    static void requirePositive(String field, long value, String hint) {
        if (value <= 0) {
            throw new IllegalArgumentException("GRU: " + field + " must be > 0" + hint + ", got " + value);
        }
    }

    /**
     * Builder, used like DL4J's {@code LSTM.Builder}: {@code new GRU.Builder().nIn(3).nOut(8).build()}.
     * Defaults: activation tanh, gate activation sigmoid, {@code resetAfter(true)}, NCW data format; weight init,
     * bias init (0), dropout, updater and regularisation come from the network configuration unless set here.
     */
    public static final class Builder extends BaseRecurrentLayer.Builder<Builder> {

        private IActivation gateActivationFn = new ActivationSigmoid();
        private boolean resetAfter = DEFAULT_RESET_AFTER;

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

        /**
         * The variant (see the class comment): {@code true} (the default) applies the reset gate after the recurrent
         * product of the candidate and has the biases "b" and "rb" (PyTorch {@code nn.GRU}, Keras
         * {@code reset_after=True}); {@code false} applies it to h before that product and has the one bias "b"
         * (Keras {@code reset_after=False}).
         */
        public Builder resetAfter(boolean resetAfter) {
            this.resetAfter = resetAfter;
            return this;
        }

        @Override
        public GRU build() {
            validate(nIn, nOut, activationFn, gateActivationFn);
            return new GRU(this);
        }
    }
}
