using System.Buffers.Binary;

namespace KeyDoctor.Fuzz;

/// <summary>
/// A deterministic, seeded mutator for the in-suite run: the same seed gives the same mutants on every machine.
/// It stacks one to eight of afl's classic havoc steps (bit flips, interesting values, arithmetic, block delete,
/// duplicate and overwrite, truncation, splicing with another seed, dictionary tokens). The long campaigns use
/// afl++'s coverage-guided mutator instead.
/// </summary>
public sealed class Mutator(int seed, IReadOnlyList<byte[]> dictionary)
{
    private static readonly long[] Interesting =
    [
        0, 1, -1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        16, 32, 64, 100, 512, 1000, 1024, 4096, 65535, 65536,
    ];

    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> others)
    {
        var data = new List<byte>(input);
        var steps = 1 + _random.Next(8);
        for (var i = 0; i < steps; i++) Step(data, others);
        return [.. data];
    }

    private void Step(List<byte> data, IReadOnlyList<byte[]> others)
    {
        if (data.Count == 0)
        {
            data.Add((byte)_random.Next(256));
            return;
        }
        switch (_random.Next(12))
        {
            case 0:
            case 1:
                data[At(data)] ^= (byte)(1 << _random.Next(8));
                break;
            case 2:
                data[At(data)] = (byte)_random.Next(256);
                break;
            case 3:
            case 4:
                WriteInteger(data, Interesting[_random.Next(Interesting.Length)]);
                break;
            case 5:
            {
                var at = At(data);
                data[at] = (byte)(data[at] + _random.Next(-35, 36));
                break;
            }
            case 6:
            {
                var (at, length) = Block(data);
                data.RemoveRange(at, length);
                break;
            }
            case 7:
            {
                var (at, length) = Block(data);
                data.InsertRange(At(data), data.GetRange(at, length));
                break;
            }
            case 8:
            {
                var (from, length) = Block(data);
                var to = _random.Next(data.Count - length + 1);
                var copy = data.GetRange(from, length);
                for (var i = 0; i < length; i++) data[to + i] = copy[i];
                break;
            }
            case 9:
            {
                var at = 1 + _random.Next(data.Count);
                data.RemoveRange(Math.Min(at, data.Count), data.Count - Math.Min(at, data.Count));
                break;
            }
            case 10 when others.Count > 0:
            {
                var other = others[_random.Next(others.Count)];
                if (other.Length == 0) break;
                var from = _random.Next(other.Length);
                var length = Math.Min(other.Length - from, 1 + _random.Next(256));
                data.InsertRange(At(data), other.AsSpan(from, length).ToArray());
                break;
            }
            case 11 when dictionary.Count > 0:
            {
                var token = dictionary[_random.Next(dictionary.Count)];
                if (_random.Next(2) == 0) data.InsertRange(At(data), token);
                else
                    for (var i = 0; i < token.Length; i++)
                    {
                        var at = At(data) is var p && p + token.Length <= data.Count ? p : 0;
                        if (at + i < data.Count) data[at + i] = token[i];
                    }
                break;
            }
            default:
                data[At(data)] ^= 0xFF;
                break;
        }
    }

    private int At(List<byte> data) => _random.Next(data.Count);

    private (int At, int Length) Block(List<byte> data)
    {
        var at = At(data);
        var length = 1 + _random.Next(Math.Min(data.Count - at, _random.Next(8) == 0 ? 4096 : 64));
        return (at, length);
    }

    private void WriteInteger(List<byte> data, long value)
    {
        var width = new[] { 1, 2, 4, 8 }[_random.Next(4)];
        if (data.Count < width) return;
        var at = _random.Next(data.Count - width + 1);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        for (var i = 0; i < width; i++) data[at + i] = bytes[i];
    }
}
