package org.dl4jclipping.examples;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** The exploding-gradients demo ({@link ExplodingGradientsDemo}) as a sub-command. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "A 32-unit RNN whose gradients explode, trained without and with global-norm clipping.")
final class DemoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        ExplodingGradientsDemo.main(new String[0]);
        return 0;
    }
}
