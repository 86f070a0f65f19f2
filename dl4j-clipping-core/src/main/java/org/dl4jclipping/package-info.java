/**
 * Gradient clipping for Deeplearning4j.
 *
 * <p>Start with {@link org.dl4jclipping.Clip}, the factory of every strategy:
 * <pre>{@code
 * ClipStrategy clip = Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0));
 * }</pre>
 *
 * <p>Packages by concept:
 * <ul>
 *   <li>{@link org.dl4jclipping.strategy}: what each strategy computes (immutable, JSON-serialisable);</li>
 *   <li>{@link org.dl4jclipping.engine}: named groups of gradient views and the step that clips them in place,
 *       independent of how DL4J hands them over;</li>
 *   <li>{@link org.dl4jclipping.report}: what one step did.</li>
 * </ul>
 */
package org.dl4jclipping;
