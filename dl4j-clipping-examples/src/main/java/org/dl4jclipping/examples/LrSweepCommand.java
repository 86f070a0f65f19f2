package org.dl4jclipping.examples;

@picocli.CommandLine.Command(name = "lr-sweep")
final class LrSweepCommand extends ExampleCommand {
    @Override
    public Integer call() {
        return 0;
    }
}
