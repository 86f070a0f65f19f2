/**
 * The clipping engine: named groups of gradient views ({@link org.dl4jclipping.engine.GradientLayout}), the step
 * that clips them in place ({@link org.dl4jclipping.engine.Clipper}, {@link org.dl4jclipping.engine.ClipStep})
 * and what it reports ({@link org.dl4jclipping.engine.ClipReport}).
 *
 * <p>It knows nothing of how DL4J hands gradients over: every integration and every test drives the same code.
 */
package org.dl4jclipping.engine;
