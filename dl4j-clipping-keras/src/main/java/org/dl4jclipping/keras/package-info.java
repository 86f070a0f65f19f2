/**
 * Keras models with GRU layers, and the clipping of the optimizer they were trained with, imported into DL4J.
 */
package org.dl4jclipping.keras;
