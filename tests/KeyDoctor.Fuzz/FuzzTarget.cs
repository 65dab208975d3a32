using KeyDoctor.Formats;

namespace KeyDoctor.Fuzz;

/// <summary>
/// One reader under fuzzing. A target feeds one input to its reader and consumes everything the reader offers
/// (every record, value, property), so lazy decoding is exercised too. The contract (docs/formats/limits.md): the
/// reader returns, or throws <see cref="MalformedDataException"/> with an offset; anything else escaping is a bug,
/// and so is allocating more than <see cref="AllocationBudget"/>.
/// To add a target, add one class deriving from this one under Targets/: it is found by reflection.
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>Short name used on the command line and in test names, e.g. "evtx".</summary>
    public abstract string Name { get; }

    /// <summary>What the target drives, for `keydoctor-fuzz list` and the README.</summary>
    public abstract string Description { get; }

    /// <summary>Seed inputs, taken from ../shared/fixtures at run time (and built by KeyDoctor's own writers where
    /// the fixtures hold no such file). Deterministic: the same seeds on every run.</summary>
    public abstract IEnumerable<Seed> Seeds();

    /// <summary>Reads <paramref name="input"/> completely. May throw only <see cref="MalformedDataException"/>
    /// (or an exception listed in <see cref="TypedErrors"/>).</summary>
    public abstract void Run(byte[] input);

    /// <summary>Typed "not a match" errors a reader may give besides the malformed-data error (e.g. LSA secrets
    /// decrypted with the wrong boot key).</summary>
    public virtual IReadOnlyList<Type> TypedErrors => [];

    /// <summary>Mutants the test suite runs per seed file budget (deterministic, a few seconds in all).</summary>
    public virtual int SuiteMutants => 5000;

    /// <summary>
    /// The most a single input may make the reader allocate: a small multiple of the input (a reader may copy its
    /// input and build objects proportional to it) plus a fixed allowance. A crafted input that makes the reader
    /// allocate far beyond what the file can hold is a defect even when it ends in a clean error.
    /// </summary>
    public virtual long AllocationBudget(int inputLength) => (64L * inputLength) + (16L << 20);

    /// <summary>
    /// Gives one input to several readers (a config read as each IIS file kind, a blob as each blob kind). A typed
    /// error from one does not stop the others; it is rethrown only when every reader rejected the input.
    /// </summary>
    protected void Each(params Action[] reads)
    {
        Exception? first = null;
        var rejected = 0;
        foreach (var read in reads)
        {
            try
            {
                read();
            }
            catch (Exception e) when (e is MalformedDataException || TypedErrors.Contains(e.GetType()))
            {
                first ??= e;
                rejected++;
            }
        }
        if (rejected == reads.Length) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first!).Throw();
    }
}

/// <summary>A seed input and where it came from.</summary>
public sealed record Seed(string Name, byte[] Data);
