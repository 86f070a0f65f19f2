package org.dl4jclipping.engine;

/**
 * Which gradients one norm is taken over.
 *
 * <ul>
 *   <li>{@link #PARAMETER}: each parameter array alone (a layer's {@code W}, {@code b}, {@code RW}, ...);</li>
 *   <li>{@link #LAYER}: all trainable parameters of one layer (one vertex of a ComputationGraph);</li>
 *   <li>{@link #GLOBAL}: all trainable parameters of the network, never one DL4J updater block standing in
 *       for it. This is PyTorch's {@code clip_grad_norm_} over {@code model.parameters()}.</li>
 * </ul>
 * Parameters that are not trained (BatchNormalization running statistics, frozen layers) belong to no group.
 */
public enum Scope {
    PARAMETER,
    LAYER,
    GLOBAL
}
