package org.dl4jclipping.rnn.activations;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The hard sigmoid of PyTorch ({@code nn.Hardsigmoid}) and Keras 3 ({@code keras.activations.hard_sigmoid}):
 * <pre>
 *   f(x)  = min(1, max(0, x/6 + 1/2))  = relu6(x + 3) / 6
 *   f'(x) = 1/6   for −3 &lt; x &lt; 3 (strictly)
 *           0     for x &le; −3 or x &ge; 3      (the edges ±3 included: PyTorch's hardsigmoid_backward)
 * </pre>
 * The slope is 1/6 in the array's precision. (PyTorch 1.13's {@code hardsigmoid} backward multiplies by 1/6
 * rounded to float even for float64 tensors, 0.1666666716337204, 3e-8 relative from 1/6; its forward is exact.)
 *
 * <p>Not DL4J's {@code Activation.HARDSIGMOID} ({@link org.nd4j.linalg.activations.impl.ActivationHardSigmoid}):
 * in ND4J 1.0.0-M2.1 that one computes {@code min(1, max(0, 0.2·x + 0.5))}, Keras 2's hard sigmoid, with
 * derivative 0.2 on {@code [−2.5, 2.5]} (the edges included) and 0 outside; {@code HardSigmoidDefinitionTest}
 * states both functions. A Keras 2 file's {@code hard_sigmoid} is therefore DL4J's {@code HARDSIGMOID}, a Keras 3
 * file's is this class.
 *
 * <p>Computed with ND4J ops (any backend), in place on the array given, in its data type: {@code x/6} is rounded
 * once, then {@code + 1/2} once, then clipped. Non-finite input: NaN stays NaN, ±∞ gives 1 and 0, derivative 0.
 *
 * <p>Serialisation: no parameters; the configuration JSON names the class. All instances are equal.
 *
 * <p>References: PyTorch documentation of {@code torch.nn.Hardsigmoid}; Keras 3 source,
 * {@code keras/src/activations/activations.py} ({@code hard_sigmoid}); M. Courbariaux, Y. Bengio, J.-P. David,
 * "BinaryConnect", NeurIPS 2015 (arXiv:1511.00363), where the clipped linear form was introduced.
 */
public final class ActivationHardSigmoid6 extends BaseActivationFunction {

    private static final long serialVersionUID = 1L;

    /** Slope of the linear part, 1/6. */
    public static final double SLOPE = 1.0 / 6.0;
    /** Half width of the linear part: f is linear on (−3, 3). */
    public static final double EDGE = 3.0;

    /** The function; it has no settings. */
    public ActivationHardSigmoid6() {
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        in.divi(6.0).addi(0.5);
        // replaceWhere, not ND4J's scalar max/min: those turn NaN into the bound.
        BooleanIndexing.replaceWhere(in, 0.0, Conditions.lessThan(0.0));
        BooleanIndexing.replaceWhere(in, 1.0, Conditions.greaterThan(1.0));
        return in;
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        INDArray inside = Transforms.abs(in, true).lt(EDGE).castTo(in.dataType());
        in.assign(inside).muli(epsilon).muli(SLOPE);
        return new Pair<>(in, null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivationHardSigmoid6;
    }

    @Override
    public int hashCode() {
        return ActivationHardSigmoid6.class.getName().hashCode();
    }

    @Override
    public String toString() {
        return "hardsigmoid6";
    }
}
