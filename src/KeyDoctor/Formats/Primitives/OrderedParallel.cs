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
