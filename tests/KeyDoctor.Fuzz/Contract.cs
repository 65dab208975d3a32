using KeyDoctor.Formats;

namespace KeyDoctor.Fuzz;

/// <summary>What one input did to a reader.</summary>
public enum OutcomeKind
{
    /// <summary>Read to the end (damage, if any, reported as data).</summary>
    Accepted,

    /// <summary>Rejected with the typed malformed-data error (or a declared typed error).</summary>
    Rejected,

    /// <summary>A contract violation: another exception escaped, or the reader allocated beyond its budget.</summary>
    Violation,
}

public sealed record Outcome(OutcomeKind Kind, string Detail, Exception? Exception = null);

/// <summary>
/// The reader contract, checked for one input: only the typed error may escape, its offset is not negative, and
/// the allocation stays within the target's budget (measured on this thread; targets read on the calling thread).
/// </summary>
public static class Contract
{
    public static Outcome Check(FuzzTarget target, byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Outcome outcome;
        try
        {
            target.Run(input);
            outcome = new Outcome(OutcomeKind.Accepted, "read");
        }
        catch (MalformedDataException e) when (e.Offset >= 0)
        {
            outcome = new Outcome(OutcomeKind.Rejected, e.Message);
        }
        catch (Exception e) when (target.TypedErrors.Contains(e.GetType()))
        {
            outcome = new Outcome(OutcomeKind.Rejected, e.Message);
        }
        catch (Exception e)
        {
            return new Outcome(OutcomeKind.Violation, $"{e.GetType().Name} escaped: {e.Message}", e);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var budget = target.AllocationBudget(input.Length);
        if (allocated > budget)
            return new Outcome(OutcomeKind.Violation,
                $"allocated {allocated:N0} bytes for a {input.Length:N0}-byte input (budget {budget:N0})");
        return outcome;
    }

    /// <summary>For afl++: a violation must crash the process so afl records the input; a typed error is a normal exit.</summary>
    public static void RunOrCrash(FuzzTarget target, byte[] input)
    {
        var outcome = Check(target, input);
        if (outcome.Kind == OutcomeKind.Violation)
            throw new ContractViolationException(outcome.Detail, outcome.Exception);
    }
}

public sealed class ContractViolationException(string message, Exception? inner) : Exception(message, inner);
