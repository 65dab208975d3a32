using System.Reflection;

namespace KeyDoctor.Fuzz;

/// <summary>Every target in this assembly, found by reflection and ordered by name.</summary>
public static class FuzzTargets
{
    private static readonly Lazy<IReadOnlyList<FuzzTarget>> AllLazy = new(() =>
        typeof(FuzzTarget).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(FuzzTarget)) && !t.IsAbstract)
            .Select(t => (FuzzTarget)Activator.CreateInstance(t)!)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList());

    public static IReadOnlyList<FuzzTarget> All => AllLazy.Value;

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", All.Select(t => t.Name))}");
}
