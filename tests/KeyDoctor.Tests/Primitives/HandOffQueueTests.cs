using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Tests.Primitives;

/// <summary>The queue `events` hands file reads and formatted blocks between threads with.</summary>
public class HandOffQueueTests
{
    [Fact]
    public async Task AbandoningDropsWhatIsWaitingAndEndsEveryConsumer()
    {
        var queue = new HandOffQueue<int>();
        for (var i = 0; i < 5; i++) Assert.True(queue.TryAdd(i));
        Assert.True(queue.TryTake(out var first));
        Assert.Equal(0, first);
        queue.Abandon();
        Assert.False(queue.TryTake(out _)); // four were waiting: dropped, not handed on

        var empty = new HandOffQueue<int>();
        var waiting = Task.Run(() => empty.GetConsumingEnumerable().Count());
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted); // nothing to take yet: it waits
        empty.Abandon();
        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task ItemsComeOutInOrderAcrossThreadsUntilComplete()
    {
        var queue = new HandOffQueue<int>(capacity: 2);
        var producer = Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++) Assert.True(queue.TryAdd(i));
            queue.CompleteAdding();
        });
        Assert.Equal(Enumerable.Range(0, 1000), queue.GetConsumingEnumerable().ToList());
        await producer.WaitAsync(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task CancellingEndsTheWaitOfAFullQueue()
    {
        using var cancel = new CancellationTokenSource();
        var queue = new HandOffQueue<int>(capacity: 1, cancel.Token);
        Assert.True(queue.TryAdd(1));
        var blocked = Task.Run(() => queue.TryAdd(2));
        await Task.Delay(50);
        Assert.False(blocked.IsCompleted); // full: it waits for a consumer
        cancel.Cancel();
        Assert.False(await blocked.WaitAsync(TimeSpan.FromMinutes(1)));
        queue.CompleteAdding();
        Assert.Equal([1], queue.GetConsumingEnumerable());
    }
}
