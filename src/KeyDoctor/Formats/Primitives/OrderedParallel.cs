namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// Maps a list on several threads and yields the results in list order, so work done in parallel still comes out
/// the same way every run. At most <c>window</c> results wait to be consumed: memory is bounded whatever the list
/// length, and a slow consumer (stdout) holds the workers back instead of letting results pile up.
/// </summary>
public static class OrderedParallel
{
    /// <param name="createState">Per-worker state (a read buffer), made once per worker thread.</param>
    public static IEnumerable<TOut> Map<TIn, TState, TOut>(IReadOnlyList<TIn> items, Func<TState> createState,
        Func<TIn, TState, TOut> map, int workers = 0, int window = 1024, CancellationToken cancellationToken = default)
    {
        workers = workers <= 0 ? Environment.ProcessorCount : workers;
        if (workers == 1 || items.Count < 2)
        {
            var state = createState();
            foreach (var item in items)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return map(item, state);
            }
            yield break;
        }

        var run = new Run<TIn, TState, TOut>(items, createState, map, Math.Max(workers, 1), Math.Max(window, workers), cancellationToken);
        try
        {
            for (var i = 0; i < items.Count; i++) yield return run.Take(i);
        }
        finally
        {
            run.Stop();
        }
    }

    /// <summary>
    /// Like <see cref="Map{TIn, TState, TOut}"/> over a sequence produced while the results are consumed (a tree walk):
    /// the source is enumerated on the consuming thread, at most <paramref name="window"/> items ahead of the results,
    /// so the walk, the work and the output overlap and nothing of the whole source is held at once.
    /// </summary>
    public static IEnumerable<TOut> MapStreaming<TIn, TState, TOut>(IEnumerable<TIn> source, Func<TState> createState,
        Func<TIn, TState, TOut> map, int workers = 0, int window = 64, CancellationToken cancellationToken = default)
    {
        workers = workers <= 0 ? Environment.ProcessorCount : workers;
        if (workers == 1)
        {
            var state = createState();
            foreach (var item in source)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return map(item, state);
            }
            yield break;
        }

        var run = new StreamingRun<TIn, TState, TOut>(createState, map, workers, Math.Max(window, workers), cancellationToken);
        try
        {
            long posted = 0, taken = 0;
            foreach (var item in source)
            {
                if (posted - taken == run.Window) yield return run.Take(taken++);
                run.Post(posted++, item);
                // Hand on what is ready before walking further, so output flows while the source is being produced.
                while (taken < posted && run.IsDone(taken)) yield return run.Take(taken++);
            }
            while (taken < posted) yield return run.Take(taken++);
        }
        finally
        {
            run.Stop();
        }
    }

    /// <summary>
    /// The results of a window of items in flight, kept by index modulo the window: workers complete them in any
    /// order, the consumer takes them in index order and waits for the one it needs. A result's exception is rethrown
    /// when it is taken, so a failure surfaces in order, on the consuming thread.
    /// </summary>
    private sealed class ResultSlots<TOut>(int window)
    {
        private readonly TOut[] _results = new TOut[window];
        private readonly Exception?[] _errors = new Exception?[window];
        private readonly bool[] _done = new bool[window];
        private long _waitingFor = -1;

        private readonly object _gate = new();

        public int Window => _results.Length;

        /// <summary>Maps item <paramref name="index"/> into its slot, or records the exception mapping it threw.</summary>
        public void Complete<TIn, TState>(long index, Func<TIn, TState, TOut> map, TIn item, TState state)
        {
            var slot = (int)(index % _results.Length);
            try
            {
                _results[slot] = map(item, state);
            }
            catch (Exception ex)
            {
                _errors[slot] = ex;
            }
            lock (_gate)
            {
                _done[slot] = true;
                if (_waitingFor == index) Monitor.PulseAll(_gate);
            }
        }

        public bool IsDone(long index)
        {
            lock (_gate) return _done[index % _results.Length];
        }

        /// <summary>Waits for item <paramref name="index"/>, frees its slot and returns its result (or throws its exception).</summary>
        public TOut Take(long index, CancellationToken cancellationToken)
        {
            var slot = (int)(index % _results.Length);
            lock (_gate)
            {
                while (!_done[slot])
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    _waitingFor = index;
                    Monitor.Wait(_gate, 100);
                }
                _waitingFor = -1;
                _done[slot] = false;
            }
            var error = _errors[slot];
            var result = _results[slot];
            _errors[slot] = null;
            _results[slot] = default!;
            if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            return result;
        }
    }

    private sealed class StreamingRun<TIn, TState, TOut>
    {
        private readonly Func<TIn, TState, TOut> _map;
        private readonly HandOffQueue<(long Index, TIn Item)> _pending = new();
        private readonly ResultSlots<TOut> _slots;
        private readonly Thread[] _workers;
        private readonly CancellationToken _cancellation;

        public StreamingRun(Func<TState> createState, Func<TIn, TState, TOut> map, int workers, int window, CancellationToken cancellationToken)
        {
            _map = map;
            _cancellation = cancellationToken;
            _slots = new ResultSlots<TOut>(window);
            _workers = new Thread[workers];
            for (var w = 0; w < workers; w++)
            {
                // State is made here, so a failure to make it reaches the caller instead of a worker thread.
                var state = createState();
                _workers[w] = new Thread(() => Work(state)) { IsBackground = true, Name = "KeyDoctor worker" };
                _workers[w].Start();
            }
        }

        public int Window => _slots.Window;

        /// <summary>Queues item <paramref name="index"/>; the caller keeps fewer than <see cref="Window"/> untaken.</summary>
        public void Post(long index, TIn item) => _pending.TryAdd((index, item));

        public bool IsDone(long index) => _slots.IsDone(index);

        public TOut Take(long index) => _slots.Take(index, _cancellation);

        private void Work(TState state)
        {
            while (_pending.TryTake(out var next)) _slots.Complete(next.Index, _map, next.Item, state);
        }

        /// <summary>Ends the workers at once, whatever is still waiting (the consumer stopped early, or failed).</summary>
        public void Stop()
        {
            _pending.Abandon();
            foreach (var worker in _workers) worker.Join();
        }
    }

    private sealed class Run<TIn, TState, TOut>
    {
        private readonly IReadOnlyList<TIn> _items;
        private readonly Func<TIn, TState, TOut> _map;
        private readonly ResultSlots<TOut> _slots;
        private readonly SemaphoreSlim _free;
        private readonly CancellationTokenSource _stop;
        private readonly Task[] _workers;
        private int _next = -1;

        public Run(IReadOnlyList<TIn> items, Func<TState> createState, Func<TIn, TState, TOut> map, int workers, int window,
                   CancellationToken cancellationToken)
        {
            _items = items;
            _map = map;
            _slots = new ResultSlots<TOut>(window);
            _free = new SemaphoreSlim(window);
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _workers = new Task[Math.Min(workers, items.Count)];
            for (var w = 0; w < _workers.Length; w++)
                _workers[w] = Task.Factory.StartNew(() => Work(createState), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        private void Work(Func<TState> createState)
        {
            try
            {
                var state = createState();
                while (true)
                {
                    // A slot is free only once the result that used it was consumed: item i never overtakes i - window.
                    _free.Wait(_stop.Token);
                    var i = Interlocked.Increment(ref _next);
                    if (i >= _items.Count) return;
                    _slots.Complete(i, _map, _items[i], state);
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped by the consumer.
            }
        }

        public TOut Take(int i)
        {
            var result = _slots.Take(i, _stop.Token);
            _free.Release();
            return result;
        }

        public void Stop()
        {
            _stop.Cancel();
            try
            {
                Task.WaitAll(_workers);
            }
            catch (AggregateException)
            {
                // Workers end on cancellation; their errors surfaced through Take.
            }
            _stop.Dispose();
            _free.Dispose();
        }
    }
}
