package org.dl4jclipping.keras;

import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;

/**
 * Reads one dataset of an HDF5 file by its full path, for the reference: independent of the importer's walk
 * over layer groups and of its weight mapping.
 */
final class H5Reader implements AutoCloseable {

    private final Hdf5Archive archive;

    H5Reader(Path file) {
        this.archive = new Hdf5Archive(file.toString());
    }

    /** The dataset at "group/.../name" as a double matrix (a vector becomes one row). */
    double[][] matrix(String path) {
        int slash = path.lastIndexOf('/');
        try {
            INDArray a = archive.readDataSet(path.substring(slash + 1), path.substring(0, slash))
                    .castTo(DataType.DOUBLE);
            return a.rank() == 1 ? new double[][] {a.toDoubleVector()} : a.toDoubleMatrix();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + path, e);
        }
    }

    /** The dataset at the path as a vector. */
    double[] vector(String path) {
        return matrix(path)[0];
    }

    @Override
    public void close() {
        archive.close();
    }
}
