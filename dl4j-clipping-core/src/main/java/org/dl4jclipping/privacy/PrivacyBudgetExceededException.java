package org.dl4jclipping.privacy;

/**
 * Thrown before a DP-SGD step that would take the privacy spent past the configured epsilon budget. Nothing was
 * changed: the network's parameters and updater state are those after the last step taken, and the accountant
 * holds only the steps taken.
 */
public final class PrivacyBudgetExceededException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final double spent;
    private final double next;
    private final double budget;
    private final long stepsTaken;

    PrivacyBudgetExceededException(double spent, double next, double budget, double delta, long stepsTaken) {
        super("Privacy budget reached: the next DP-SGD step would spend epsilon = " + next + " (delta = " + delta
                + "), more than epsilonBudget = " + budget + "; " + stepsTaken + " steps taken, epsilon spent = "
                + spent + ". Training stopped before the step; the parameters are those after the last step taken. "
                + "To train further, raise epsilonBudget (a weaker guarantee), or start again with a larger noise "
                + "multiplier or sample rate chosen with PrivacyAccountant.noiseMultiplier");
        this.spent = spent;
        this.next = next;
        this.budget = budget;
        this.stepsTaken = stepsTaken;
    }

    /** The epsilon spent by the steps taken. */
    public double spent() {
        return spent;
    }

    /** The epsilon one more step would have spent. */
    public double next() {
        return next;
    }

    /** The configured budget. */
    public double budget() {
        return budget;
    }

    /** The number of steps the accountant holds. */
    public long stepsTaken() {
        return stepsTaken;
    }
}
