/**
 * Differential privacy for training: the accountant of DP-SGD (Rényi DP of the Poisson-subsampled Gaussian
 * mechanism, Mironov et al. 2019, converted to (ε, δ) as Balle et al. 2020), with Opacus's semantics and orders.
 * Definitions and reference values: the project's {@code design/privacy.md}.
 */
package org.dl4jclipping.privacy;
