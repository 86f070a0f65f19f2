package org.dl4jclipping.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.dl4jclipping.Clip;
import org.dl4jclipping.strategy.AdaptiveGradientClip;
import org.dl4jclipping.strategy.AutoClip;
import org.dl4jclipping.strategy.ClipChain;
import org.dl4jclipping.strategy.ZClip;
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
    void adaptiveStrategiesAreRegistered() {
        assertThat(ClipSpec.parse("agc:0.01").strategy()).isInstanceOf(AdaptiveGradientClip.class)
                .hasToString(Clip.agc(0.01).toString());
        assertThat(ClipSpec.parse("autoclip:10").strategy()).isInstanceOf(AutoClip.class)
                .hasToString(Clip.autoClip(10).toString());
        assertThat(ClipSpec.parse("zclip").strategy()).isInstanceOf(ZClip.class)
                .hasToString(Clip.zClip().toString());
        assertThat(ClipSpec.parse("adagc").strategy()).isEqualTo(Clip.adaGC());
        assertThat(ClipSpec.parse("skip-nonfinite,skip-spikes,adagc").strategy())
                .isEqualTo(Clip.chain(Clip.skipNonFinite(), Clip.skipSpikes(), Clip.adaGC()));
        assertThat(ClipSpec.isAvailable("agc", "0.01")).isTrue();
        assertThat(ClipSpec.isAvailable("clamp", "1")).isFalse();
        ClipSpec chain = ClipSpec.parse("skip-nonfinite,agc:0.05");
        assertThat(chain.strategy()).isInstanceOf(ClipChain.class);
        assertThat(chain.globalThreshold()).isEmpty();
    }

    @Test
    void adaptiveStrategiesCheckTheirArguments() {
        assertThatThrownBy(() -> ClipSpec.parse("agc")).isInstanceOf(UserError.class)
                .hasMessageContaining("needs a number");
        assertThatThrownBy(() -> ClipSpec.parse("agc:-1")).isInstanceOf(UserError.class)
                .hasMessageContaining("agc:-1");
        assertThatThrownBy(() -> ClipSpec.parse("autoclip:150")).isInstanceOf(UserError.class)
                .hasMessageContaining("autoclip:150");
        assertThatThrownBy(() -> ClipSpec.parse("zclip:2")).isInstanceOf(UserError.class)
                .hasMessageContaining("takes no argument");
        assertThatThrownBy(() -> ClipSpec.parse("skip-spikes:3")).isInstanceOf(UserError.class)
                .hasMessageContaining("takes no argument");
        assertThatThrownBy(() -> ClipSpec.parse("agd:0.01")).isInstanceOf(UserError.class)
                .hasMessageContaining("unknown strategy 'agd'").hasMessageContaining("agc, autoclip, zclip, adagc, skip-spikes");
    }

    @Test
    void errorsNameThePart() {
        assertThatThrownBy(() -> ClipSpec.parse("none,value:1")).hasMessageContaining("cannot be chained");
        assertThatThrownBy(() -> ClipSpec.parse("skip-nonfinite:3")).hasMessageContaining("takes no argument");
        assertThatThrownBy(() -> ClipSpec.parse("value:x")).hasMessageContaining("'x' is not a number");
    }
}
