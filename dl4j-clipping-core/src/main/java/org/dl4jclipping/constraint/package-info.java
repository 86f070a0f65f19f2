/**
 * Weight clipping: DL4J {@link org.deeplearning4j.nn.api.layers.LayerConstraint}s that act on parameters after
 * each update, not on gradients.
 *
 * <ul>
 *   <li>{@link org.dl4jclipping.constraint.WeightValueClip}: every element into {@code [-c, c]} (WGAN weight
 *       clipping);</li>
 *   <li>{@link org.dl4jclipping.constraint.UnitMaxNorm}: the L2 norm of every output unit at most {@code c}
 *       (Keras {@code MaxNorm});</li>
 *   <li>{@link org.dl4jclipping.constraint.WeightClipping}: adds constraints to every layer of a built
 *       configuration, working around DL4J 1.0.0-M2.1's global {@code constrainAllParameters(...)}, which does
 *       nothing, and its rule that a layer with a constraint of its own drops every global one.</li>
 * </ul>
 *
 * <p>On a layer builder: {@code .constrainWeights(new UnitMaxNorm(3.0))} (weights), {@code .constrainBias(...)}
 * (biases), {@code .constrainAllParameters(...)} (all); DL4J clones the constraint and sets which parameters it
 * applies to. Both constraints are idempotent, so DL4J calling them more than once per step does no harm.
 */
package org.dl4jclipping.constraint;
