/**
 * The clipping strategies: what each one computes, as immutable, validated, JSON-serialisable values.
 *
 * <p>Each class documents its formula, defaults, edge cases and the peer it matches (PyTorch, Keras, Optax,
 * DL4J). The exact definitions are the project's {@code docs/semantics.md}.
 */
package org.dl4jclipping.strategy;
