package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One layer's part of a flat vector laid out as the network's parameters ({@code MultiLayerNetwork} flattens its
 * layers in order): the layer's contiguous slice and its views by parameter key, as the layer's own parameter
 * initializer cuts them (so that a gradient written through the keys lands where DL4J's would).
 *
 * @param layer  the layer's index in the network
 * @param offset the slice's first element in the flat vector
 * @param flat   the slice, a view
 * @param byKey  views into the slice, by parameter key ({@code "W"}, {@code "b"}, ...)
 */
public record LayerViews(int layer, long offset, INDArray flat, Map<String, INDArray> byKey) {

    /**
     * The views of every layer with parameters into {@code flat}, a row vector of the network's parameter count
     * (or a view of one row of a [B, P] matrix).
     */
    static List<LayerViews> of(MultiLayerNetwork net, INDArray flat) {
        List<LayerViews> out = new ArrayList<>();
        long offset = 0;
        Layer[] layers = net.getLayers();
        INDArray row = flat.reshape(1, flat.length());
        for (int k = 0; k < layers.length; k++) {
            long n = layers[k].numParams();
            if (n == 0) {
                continue;
            }
            INDArray slice = row.get(NDArrayIndex.point(0), NDArrayIndex.interval(offset, offset + n))
                    .reshape(1, n);
            Map<String, INDArray> keys = layers[k].conf().getLayer().initializer()
                    .getGradientsFromFlattened(layers[k].conf(), slice);
            out.add(new LayerViews(k, offset, slice, keys));
            offset += n;
        }
        return out;
    }
}
