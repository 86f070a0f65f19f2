package org.dl4jclipping.constraint;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import lombok.EqualsAndHashCode;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.LayerConstraint;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

/**
 * What the weight constraints share: the set of parameter names they apply to (filled by DL4J, see below) and
 * one pass over a layer's parameters per call.
 *
 * <p>Which parameters: DL4J's layer builders clone the constraint and call {@link #setParams} with the layer's
 * weight keys ({@code constrainWeights}), bias keys ({@code constrainBias}) or all keys
 * ({@code constrainAllParameters}); {@link WeightClipping} does the same for weights. A constraint whose set is
 * empty (never handed to a builder) applies to nothing, as DL4J's own constraints do.
 *
 * <p>Unlike DL4J's {@code BaseConstraint}, which in 1.0.0-M2.1 applies every constraint twice per parameter and
 * iteration (its loop body is written twice), each matching parameter is visited once per call.
 */
@EqualsAndHashCode
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
        getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE,
        setterVisibility = JsonAutoDetect.Visibility.NONE)
abstract class ParamConstraint implements LayerConstraint {

    private static final long serialVersionUID = 1L;

    /** Parameter names this constraint applies to; set by DL4J (mutable by DL4J's contract). */
    private Set<String> params = new HashSet<>();

    @Override
    public void applyConstraint(Layer layer, int iteration, int epoch) {
        Map<String, INDArray> table = layer.paramTable();
        if (table == null || table.isEmpty() || params.isEmpty()) {
            return;
        }
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        List<String> biasKeys = conf.initializer().biasKeys(conf);
        for (Map.Entry<String, INDArray> e : table.entrySet()) {
            if (params.contains(e.getKey())) {
                apply(e.getValue(), biasKeys.contains(e.getKey()));
            }
        }
    }

    /**
     * Applies the constraint to one parameter array in place.
     *
     * @param param the parameter view (changed in place)
     * @param bias  whether DL4J lists it as a bias (a bias is one vector, never split into units)
     */
    abstract void apply(INDArray param, boolean bias);

    @Override
    public void setParams(Set<String> params) {
        this.params = params == null ? new HashSet<>() : new HashSet<>(params);
    }

    @Override
    public Set<String> getParams() {
        return params;
    }

    /** A copy of this constraint with an independent parameter set. */
    @Override
    public abstract ParamConstraint clone();

    /** {@code copy} with this constraint's parameter names; for {@link #clone()}. */
    <T extends ParamConstraint> T withParamsOf(T copy) {
        copy.setParams(params);
        return copy;
    }
}
