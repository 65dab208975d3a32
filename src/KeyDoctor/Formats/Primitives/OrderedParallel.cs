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

    private sealed class StreamingRun<TIn, TState, TOut>
    {
        private readonly Func<TIn, TState, TOut> _map;
        private readonly Queue<(long Index, TIn Item)> _pending = new();
        private readonly TOut[] _results;
        private readonly Exception?[] _errors;
        private readonly bool[] _done;
        private readonly Thread[] _workers;
        private readonly CancellationToken _cancellation;
        private readonly object _gate = new();
        private bool _stopped;

        public StreamingRun(Func<TState> createState, Func<TIn, TState, TOut> map, int workers, int window, CancellationToken cancellationToken)
        {
            _map = map;
            _cancellation = cancellationToken;
            _results = new TOut[window];
            _errors = new Exception?[window];
            _done = new bool[window];
            _workers = new Thread[workers];
            for (var w = 0; w < workers; w++)
            {
                // State is made here, so a failure to make it reaches the caller instead of a worker thread.
                var state = createState();
                _workers[w] = new Thread(() => Work(state)) { IsBackground = true, Name = "KeyDoctor worker" };
                _workers[w].Start();
            }
        }

        public int Window => _results.Length;

        /// <summary>Queues item <paramref name="index"/>; the caller keeps fewer than <see cref="Window"/> untaken.</summary>
        public void Post(long index, TIn item)
        {
            lock (_gate)
            {
                _pending.Enqueue((index, item));
                Monitor.Pulse(_gate);
            }
        }

        public bool IsDone(long index)
        {
            lock (_gate) return _done[index % _results.Length];
        }

        public TOut Take(long index)
        {
            var slot = (int)(index % _results.Length);
            lock (_gate)
            {
                while (!_done[slot])
                {
                    _cancellation.ThrowIfCancellationRequested();
                    Monitor.Wait(_gate, 100);
                }
                _done[slot] = false;
            }
            var error = _errors[slot];
            var result = _results[slot];
            _errors[slot] = null;
            _results[slot] = default!;
            if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            return result;
        }

        private void Work(TState state)
        {
            while (true)
            {
                (long Index, TIn Item) next;
                lock (_gate)
                {
                    while (_pending.Count == 0 && !_stopped) Monitor.Wait(_gate);
                    if (_stopped) return;
                    next = _pending.Dequeue();
                }
                var slot = (int)(next.Index % _results.Length);
                try
                {
                    _results[slot] = _map(next.Item, state);
                }
                catch (Exception ex)
                {
                    _errors[slot] = ex;
                }
                lock (_gate)
                {
                    _done[slot] = true;
                    Monitor.PulseAll(_gate);
                }
            }
        }

        public void Stop()
        {
            lock (_gate)
            {
                _stopped = true;
                Monitor.PulseAll(_gate);
            }
            foreach (var worker in _workers) worker.Join();
        }
    }

    private sealed class Run<TIn, TState, TOut>
    {
        private readonly IReadOnlyList<TIn> _items;
        private readonly Func<TIn, TState, TOut> _map;
        private readonly TOut[] _results;
        private readonly Exception?[] _errors;
        private readonly bool[] _done;
        private readonly SemaphoreSlim _free;
        private readonly CancellationTokenSource _stop;
        private readonly Task[] _workers;
        private readonly object _gate = new();
        private int _next = -1;
        private int _waitingFor = -1;

        public Run(IReadOnlyList<TIn> items, Func<TState> createState, Func<TIn, TState, TOut> map, int workers, int window,
                   CancellationToken cancellationToken)
        {
            _items = items;
            _map = map;
            _results = new TOut[window];
            _errors = new Exception?[window];
            _done = new bool[window];
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
                    var slot = i % _results.Length;
                    try
                    {
                        _results[slot] = _map(_items[i], state);
                    }
                    catch (Exception ex)
                    {
                        _errors[slot] = ex;
                    }
                    lock (_gate)
                    {
                        _done[slot] = true;
                        if (_waitingFor == i) Monitor.PulseAll(_gate);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped by the consumer.
            }
        }

        public TOut Take(int i)
        {
            var slot = i % _results.Length;
            lock (_gate)
            {
                while (!_done[slot])
                {
                    _stop.Token.ThrowIfCancellationRequested();
                    _waitingFor = i;
                    Monitor.Wait(_gate, 100);
                }
                _waitingFor = -1;
                _done[slot] = false;
            }
            var error = _errors[slot];
            var result = _results[slot];
            _errors[slot] = null;
            _results[slot] = default!;
            _free.Release();
            if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
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
