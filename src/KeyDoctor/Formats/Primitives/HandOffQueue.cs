namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// A queue from producer threads to consumer threads whose waits sleep at once. BlockingCollection's semaphore spins
/// and yields before it sleeps: in `events`, where the output and the file readers mostly wait for the parsing
/// threads, that spinning took 6% of the CPU on two cores from the threads doing the work.
/// </summary>
public sealed class HandOffQueue<T>
{
    private readonly Queue<T> _items = new();
    private readonly int _capacity;
    private readonly CancellationToken _cancel;
    private readonly CancellationTokenRegistration _wakeOnCancel;
    private bool _completed;
    private bool _abandoned;

    /// <param name="capacity">Items held at most: <see cref="TryAdd"/> waits while the queue is full.</param>
    /// <param name="cancel">Ends the wait of <see cref="TryAdd"/> (it returns false).</param>
    public HandOffQueue(int capacity = int.MaxValue, CancellationToken cancel = default)
    {
        _capacity = capacity;
        _cancel = cancel;
        _wakeOnCancel = cancel.Register(WakeAll);
    }

    /// <summary>Adds <paramref name="item"/>, waiting while the queue is full; false when cancelled first.</summary>
    public bool TryAdd(T item)
    {
        lock (_items)
        {
            while (_items.Count >= _capacity && !_cancel.IsCancellationRequested) Monitor.Wait(_items);
            if (_cancel.IsCancellationRequested) return false;
            _items.Enqueue(item);
            Monitor.PulseAll(_items);
            return true;
        }
    }

    /// <summary>No more items: consumers end once they have taken the ones left.</summary>
    public void CompleteAdding()
    {
        _wakeOnCancel.Unregister(); // nothing is added any more, so no wait to end
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>
    /// No more items, and the ones waiting are dropped: consumers end at once (a reader stopped before its input
    /// ended, whose work nobody will take).
    /// </summary>
    public void Abandon()
    {
        lock (_items)
        {
            _abandoned = _completed = true;
            _items.Clear();
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>The items in order, waiting for each, until the queue is complete and empty.</summary>
    public IEnumerable<T> GetConsumingEnumerable()
    {
        while (TryTake(out var item)) yield return item;
    }

    /// <summary>The next item, waiting for it; false once the queue is complete and empty, or abandoned.</summary>
    public bool TryTake(out T item)
    {
        lock (_items)
        {
            while (_items.Count == 0 && !_completed) Monitor.Wait(_items);
            if (_abandoned || !_items.TryDequeue(out item!))
            {
                item = default!;
                return false;
            }
            Monitor.PulseAll(_items);
            return true;
        }
    }

    private void WakeAll()
    {
        lock (_items) Monitor.PulseAll(_items);
    }
}
