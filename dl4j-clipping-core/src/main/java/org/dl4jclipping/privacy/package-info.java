/**
 * Differentially private training (DP-SGD, Abadi et al. 2016) with Opacus's semantics, and its accountant.
 *
 * <ul>
 *   <li>{@link org.dl4jclipping.privacy.PrivateTraining}: the user API, one object around a
 *       {@code MultiLayerNetwork} or {@code ComputationGraph}: Poisson-sampled batches
 *       ({@link org.dl4jclipping.privacy.PoissonSampling}, {@link org.dl4jclipping.privacy.MultiDataSetPoissonSampling}),
 *       per-example clipping (flat or per layer), Gaussian noise from {@link org.dl4jclipping.privacy.NoiseSource}
 *       ({@code SecureRandom} by default), the network's own DL4J updater, a budget, a
 *       {@link org.dl4jclipping.privacy.DpStepReport} per step, {@link org.dl4jclipping.privacy.PrivateCheckpoint}
 *       to save the budget spent with the model;</li>
 *   <li>{@link org.dl4jclipping.privacy.PerExampleGradients}: each example's gradient and norm, by a fast path
 *       (one backward pass, inputs and errors kept, ghost norms) for Dense, Output, RnnOutput, Embedding and
 *       EmbeddingSequence layers and the layers of {@link org.dl4jclipping.privacy.FastLayerPath} services (the
 *       recurrent layers of {@code dl4j-clipping-rnn}), or by a generic exact path (each example alone) for any
 *       other layer; BatchNormalization refused;</li>
 *   <li>{@link org.dl4jclipping.privacy.PrivacyAccountant} and {@link org.dl4jclipping.privacy.SampledGaussianRdp}:
 *       Rényi DP of the Poisson-subsampled Gaussian mechanism (Mironov et al. 2019), converted to (ε, δ) as Balle
 *       et al. 2020.</li>
 * </ul>
 * Definitions and reference values: the project's {@code design/privacy.md}; user documentation:
 * {@code docs/privacy.md}.
 */
package org.dl4jclipping.privacy;
