using KeyDoctor.Store;

namespace KeyDoctor.Cli.Json;

/// <summary>`history --json`: the store and, per node (by name), its scans oldest first with what each added and resolved.</summary>
public sealed record HistoryDocument(string Store, IReadOnlyList<NodeHistory> Nodes);
