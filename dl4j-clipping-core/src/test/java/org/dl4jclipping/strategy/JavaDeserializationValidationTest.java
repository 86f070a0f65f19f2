package org.dl4jclipping.strategy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import org.dl4jclipping.engine.Scope;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Regression test for a production bug found while writing the core tests (not fixed here: src/main belongs to
 * another session). semantics.md: invalid configuration throws when the configuration is built, by every
 * construction path. Java deserialisation (Spark ships configurations this way) does not call the constructors,
 * and the strategies have no {@code readObject}/{@code readResolve} that validates, so a stream holding
 * {@code maxNorm = -1.0} yields a live {@code ClipByNorm} with a negative threshold. Clipping with it computes
 * {@code s = min(1, -1 / (n + 1e-6)) < 0} and multiplies the gradient by a negative number: the update turns
 * into gradient ascent, silently.
 *
 * <p>Reading the patched stream throws ({@link InvalidObjectException}, or an
 * {@link IllegalArgumentException} from the shared validation), naming {@code maxNorm} and {@code -1.0}.
 */
class JavaDeserializationValidationTest {

    @Test
    void javaDeserialization_invalidMaxNorm_isRejected() throws Exception {
        // a valid strategy, serialised; then its maxNorm (1.2345, 8 bytes big-endian in the stream) patched to -1.0
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new ClipByNorm(1.2345, 2.0, Scope.GLOBAL));
        }
        byte[] stream = patch(bytes.toByteArray(), 1.2345, -1.0);
        assertThatThrownBy(() -> new ObjectInputStream(new ByteArrayInputStream(stream)).readObject())
                .satisfiesAnyOf(e -> org.assertj.core.api.Assertions.assertThat(e)
                                .isInstanceOf(InvalidObjectException.class),
                        e -> org.assertj.core.api.Assertions.assertThat(e)
                                .isInstanceOf(IllegalArgumentException.class))
                .hasMessageContaining("maxNorm").hasMessageContaining("-1.0");
    }

    /** Replaces the only occurrence of {@code from}'s 8 bytes by {@code to}'s. */
    private static byte[] patch(byte[] b, double from, double to) {
        byte[] pattern = ByteBuffer.allocate(8).putDouble(from).array();
        for (int i = 0; i + 8 <= b.length; i++) {
            boolean match = true;
            for (int k = 0; k < 8 && match; k++) {
                match = b[i + k] == pattern[k];
            }
            if (match) {
                System.arraycopy(ByteBuffer.allocate(8).putDouble(to).array(), 0, b, i, 8);
                return b;
            }
        }
        throw new IllegalStateException("value " + from + " not found in the stream");
    }
}
