using System.Runtime.CompilerServices;

namespace KeyDoctor.Cli;

/// <summary>
/// The encoded form (JSON) of strings met again as the same object, for one thread: readers hand out one instance per
/// repeated text (a chunk's provider, a capture's paths), so a lookup is an array read and a reference compare or two,
/// with no hashing of the text; a string only equal to an earlier one is encoded again. A fixed table of two-slot sets
/// (a string's set from its identity hash; a newcomer takes the place of the less recently used), so the size is the
/// same whatever the input holds.
/// </summary>
internal sealed class EncodedByReference<T>
{
    private readonly Func<string, T> _encode;
    private readonly int _setMask;

    // Each set: most recently used first.
    private readonly string?[] _strings;
    private readonly T[] _encodings;

    /// <param name="sets">A power of two.</param>
    public EncodedByReference(Func<string, T> encode, int sets)
    {
        _encode = encode;
        _setMask = sets - 1;
        _strings = new string?[sets * 2];
        _encodings = new T[sets * 2];
    }

    public T Get(string text)
    {
        var set = (RuntimeHelpers.GetHashCode(text) & _setMask) * 2;
        if (!ReferenceEquals(_strings[set], text))
        {
            var older = _strings[set + 1];
            var olderEncoding = _encodings[set + 1];
            _strings[set + 1] = _strings[set];
            _encodings[set + 1] = _encodings[set];
            _strings[set] = text;
            _encodings[set] = ReferenceEquals(older, text) ? olderEncoding : _encode(text);
        }
        return _encodings[set];
    }
}
