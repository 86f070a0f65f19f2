/**
 * Advice on clipping thresholds from the norms a short warm-up run observed: {@link
 * org.dl4jclipping.advice.ThresholdAdvisor} reads a {@link org.dl4jclipping.dl4j.ClipHistory} and returns an
 * {@link org.dl4jclipping.advice.Advice} (a global-norm threshold, a value threshold, the layers that dominate the
 * norm, and the reasoning behind each number).
 */
package org.dl4jclipping.advice;
