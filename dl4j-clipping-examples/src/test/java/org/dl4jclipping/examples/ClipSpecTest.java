package org.dl4jclipping.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.dl4jclipping.Clip;
import org.junit.jupiter.api.Test;

class ClipSpecTest {

    @Test
    void parsesEveryNameAndChains() {
        assertThat(ClipSpec.parse("none").isNone()).isTrue();
        assertThat(ClipSpec.parse("global-norm:1.0").strategy()).isEqualTo(Clip.globalNorm(1.0));
        assertThat(ClipSpec.parse("value:0.5").strategy()).isEqualTo(Clip.value(0.5));
        assertThat(ClipSpec.parse("layer-norm:1.0").strategy()).isEqualTo(Clip.layerNorm(1.0));
        assertThat(ClipSpec.parse("zero-out:5").strategy()).isEqualTo(Clip.zeroOut(5));
        assertThat(ClipSpec.parse("skip-nonfinite").strategy()).isEqualTo(Clip.skipNonFinite());
        ClipSpec chain = ClipSpec.parse("skip-nonfinite, value:5 ,global-norm:2,global-norm:1");
        assertThat(chain.strategy()).isEqualTo(Clip.chain(Clip.skipNonFinite(), Clip.value(5), Clip.globalNorm(2),
                Clip.globalNorm(1)));
        assertThat(chain.globalThreshold()).hasValue(1.0);
        assertThat(ClipSpec.parse("value:1").globalThreshold()).isEmpty();
    }

    @Test
    void agcIsRegisteredButNotAvailable() {
        assertThat(ClipSpec.isAvailable("agc", "0.01")).isFalse();
        assertThat(ClipSpec.isAvailable("global-norm", "1")).isTrue();
        assertThatThrownBy(() -> ClipSpec.parse("agc:0.01")).isInstanceOf(UserError.class)
                .hasMessageContaining("not available in this version");
    }

    @Test
    void errorsNameThePart() {
        assertThatThrownBy(() -> ClipSpec.parse("none,value:1")).hasMessageContaining("cannot be chained");
        assertThatThrownBy(() -> ClipSpec.parse("skip-nonfinite:3")).hasMessageContaining("takes no argument");
        assertThatThrownBy(() -> ClipSpec.parse("value:x")).hasMessageContaining("'x' is not a number");
    }
}
