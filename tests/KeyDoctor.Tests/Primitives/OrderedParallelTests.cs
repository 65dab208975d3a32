using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Tests.Primitives;

public class OrderedParallelTests
{
    /// <summary>Results come in source order whatever order the workers finish in.</summary>
    [Fact]
    public void StreamingMapYieldsResultsInSourceOrder()
    {
        var results = OrderedParallel.MapStreaming(Enumerable.Range(0, 2000), () => new Random(7),
            (item, random) =>
            {
                if (random.Next(50) == 0) Thread.Sleep(1);
                return item * 3;
            }, workers: 4, window: 8).ToList();
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => i * 3), results);
    }

    /// <summary>The source is never walked more than a window ahead of what the consumer took.</summary>
    [Fact]
    public void StreamingMapWalksAtMostAWindowAhead()
    {
        var produced = 0;
        IEnumerable<int> Source()
        {
            for (var i = 0; i < 500; i++)
            {
                Interlocked.Increment(ref produced);
                yield return i;
            }
        }
        var taken = 0;
        foreach (var _ in OrderedParallel.MapStreaming(Source(), () => 0, (item, _) => item, workers: 2, window: 16))
        {
            taken++;
            Assert.InRange(Volatile.Read(ref produced) - taken, -1, 16);
        }
        Assert.Equal(500, taken);
    }

    /// <summary>A failing item's exception reaches the consumer at that item, and the workers stop.</summary>
    [Fact]
    public void StreamingMapRethrowsAWorkersExceptionInOrder()
    {
        var seen = new List<int>();
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var result in OrderedParallel.MapStreaming(Enumerable.Range(0, 100), () => 0,
                         (item, _) => item == 42 ? throw new InvalidOperationException("item 42") : item, workers: 2, window: 4))
                seen.Add(result);
        });
        Assert.Equal("item 42", error.Message);
        Assert.Equal(Enumerable.Range(0, 42), seen);
    }
}
