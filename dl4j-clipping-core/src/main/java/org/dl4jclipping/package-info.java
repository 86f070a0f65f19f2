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
 *   <li>{@link org.dl4jclipping.engine}: the interfaces a strategy implements ({@code ClipStrategy},
 *       {@code Scope}), named groups of gradient views, the step that clips them in place and its report,
 *       independent of how DL4J hands them over;</li>
 *   <li>{@link org.dl4jclipping.strategy}: what each strategy computes (immutable, JSON-serialisable);</li>
 *   <li>{@link org.dl4jclipping.dl4j}: the DL4J integration ({@code ClippingUpdater}, {@code ClippingListener},
 *       layer rules, {@code ClipHistory});</li>
 *   <li>{@link org.dl4jclipping.constraint}: weight clipping after the update;</li>
 *   <li>{@link org.dl4jclipping.advice}: thresholds suggested from measured norms.</li>
 * </ul>
 */
package org.dl4jclipping;
