package org.dl4jclipping.keras.training;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code keras_version} attribute of a Keras file: {@code "2.0.9"} (standalone Keras), {@code "2.3.0-tf"}
 * (tf.keras inside TensorFlow up to 2.3, marked by the {@code -tf} suffix), {@code "2.10.0"} (tf.keras from
 * TensorFlow 2.4 on, which writes Keras's own version), {@code "3.8.0"} (Keras 3).
 *
 * <p>Only the major and minor numbers decide anything here (what {@code clipnorm} meant, which optimizer code
 * saved the configuration: see {@link OptimizerFamily}). Immutable.
 */
public final class KerasVersion {

    private static final Pattern FORMAT = Pattern.compile("(\\d+)\\.(\\d+)(?:\\.(\\d+))?(.*)");

    private final String text;
    private final int major;
    private final int minor;
    private final boolean tfSuffix;

    private KerasVersion(String text, int major, int minor, boolean tfSuffix) {
        this.text = text;
        this.major = major;
        this.minor = minor;
        this.tfSuffix = tfSuffix;
    }

    /**
     * Parses {@code keras_version}.
     *
     * @throws KerasTrainingException if {@code text} is null, blank or does not start with {@code major.minor}
     */
    public static KerasVersion parse(String text) {
        if (text == null || text.isBlank()) {
            throw new KerasTrainingException("keras_version is missing: what the optimizer's clipnorm means depends on "
                    + "the Keras that saved the file (one global norm up to standalone Keras 2.3, one norm per "
                    + "variable in tf.keras and Keras 3); pass the version that saved the file, e.g. \"2.10.0\"");
        }
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            throw new KerasTrainingException("keras_version = \"" + text + "\" is not a version: expected "
                    + "major.minor[.patch][suffix], e.g. \"2.0.9\", \"2.3.0-tf\", \"3.8.0\"");
        }
        return new KerasVersion(text.trim(), Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(4).toLowerCase().contains("-tf"));
    }

    /** The attribute as written, e.g. {@code "2.0.9"}. */
    public String text() {
        return text;
    }

    /** The major version (1, 2 or 3). */
    public int major() {
        return major;
    }

    /** The minor version. */
    public int minor() {
        return minor;
    }

    /** Whether the version carries tf.keras's {@code -tf} suffix (TensorFlow 1.x and 2.0 to 2.3). */
    public boolean isTfKerasSuffix() {
        return tfSuffix;
    }

    /** Whether this version is at least {@code major.minor}. */
    public boolean atLeast(int atLeastMajor, int atLeastMinor) {
        return major > atLeastMajor || major == atLeastMajor && minor >= atLeastMinor;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KerasVersion v && v.text.equals(text);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text);
    }

    @Override
    public String toString() {
        return text;
    }
}
