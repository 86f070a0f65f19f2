package org.dl4jclipping.examples;

@picocli.CommandLine.Command(name = "classify")
final class ClassifyCommand extends ExampleCommand {
    @Override
    public Integer call() {
        return 0;
    }
}
