using System.CodeDom.Compiler;
using System.Reflection;
using System.Runtime.CompilerServices;
using KeyDoctor.Cli;
using KeyDoctor.Formats;
using NetArchTest.Rules;

namespace KeyDoctor.Tests.Architecture;

/// <summary>
/// The layer table of docs/ARCHITECTURE.md, enforced: each layer may use the layers before it in
/// <see cref="Layers"/> (upstream, where data comes from) and never one after it. A wrong-way reference fails
/// here naming the type that makes it and the type it reaches.
/// </summary>
public sealed class LayerTests
{
    /// <summary>In the order data flows: collect → read → diagnose → record → repair, then the command line.</summary>
    public static readonly IReadOnlyList<string> Layers = ["Formats", "Crypto", "Machine", "Diagnosis", "Store", "Repair", "Cli"];

    public static TheoryData<string> LayerNames => [.. Layers];

    private static readonly Assembly[] Assemblies = [typeof(MalformedDataException).Assembly, typeof(KeyDoctorApp).Assembly];

    private static string NamespaceOf(string layer) => "KeyDoctor." + layer;

    [Theory]
    [MemberData(nameof(LayerNames))]
    public void NoLayerUsesALayerDownstreamOfIt(string layer)
    {
        var downstream = Layers.SkipWhile(l => l != layer).Skip(1).ToList();
        if (downstream.Count == 0) return; // the CLI may use everything
        var result = Types.InAssemblies(Assemblies)
            .That().ResideInNamespaceMatching(InLayer(layer))
            .ShouldNot().HaveDependencyOnAny([.. downstream.Select(NamespaceOf)])
            .GetResult();
        var upstream = Layers.TakeWhile(l => l != layer).ToList();
        Assert.True(result.IsSuccessful,
            $"{layer} may use {(upstream.Count == 0 ? "no other layer" : string.Join(", ", upstream))}, never {string.Join(", ", downstream)} " +
            "(docs/ARCHITECTURE.md). Wrong-way references:\n" +
            string.Join("\n", (result.FailingTypes ?? []).OrderBy(t => t.FullName, StringComparer.Ordinal)
                .Select(t => $"  {t.FullName} ({layer}): {t.Explanation}")));
    }

    /// <summary>A new top-level namespace has to be placed in the table before it can be used.</summary>
    [Fact]
    public void EveryTypeBelongsToALayer()
    {
        var outside = Assemblies.SelectMany(a => a.GetTypes())
            .Where(t => !IsCompilerMade(t) && !Layers.Any(l => t.Namespace == NamespaceOf(l) || t.Namespace?.StartsWith(NamespaceOf(l) + ".", StringComparison.Ordinal) == true))
            .Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();
        Assert.True(outside.Count == 0,
            $"types outside every layer of docs/ARCHITECTURE.md ({string.Join(", ", Layers.Select(NamespaceOf))}): {string.Join(", ", outside)}");
    }

    /// <summary>The table covers the CLI too: the CLI assembly holds only KeyDoctor.Cli, the library never it.</summary>
    [Fact]
    public void TheCliLayerIsTheCliAssembly()
    {
        static bool IsCli(Type t) => t.Namespace?.StartsWith("KeyDoctor.Cli", StringComparison.Ordinal) == true;
        Assert.DoesNotContain(Assemblies[0].GetTypes(), IsCli);
        Assert.All(Assemblies[1].GetTypes().Where(t => !IsCompilerMade(t)), t => Assert.True(IsCli(t), $"{t.FullName} is in the CLI assembly"));
    }

    /// <summary>
    /// Readers decrypt nothing: no Formats type touches a cipher, a MAC, a key derivation or a key object. Hashes
    /// that name things (a container's MD5, a thumbprint, a fingerprint) are allowed; RSAParameters is only numbers.
    /// </summary>
    [Fact]
    public void FormatsHoldsNoCipherMacKeyDerivationOrKeyObject()
    {
        string[] keyUse =
        [
            "Aes", "TripleDES", "DES", "RC2", "SymmetricAlgorithm", "ICryptoTransform",
            "HMAC", "HMACMD5", "HMACSHA1", "HMACSHA256", "HMACSHA384", "HMACSHA512", "IncrementalHash", "Rfc2898DeriveBytes",
            "AsymmetricAlgorithm", "RSA", "RSACryptoServiceProvider", "DSA", "ECDsa", "ECDiffieHellman",
        ];
        var result = Types.InAssemblies(Assemblies)
            .That().ResideInNamespaceMatching(InLayer("Formats"))
            .ShouldNot().HaveDependencyOnAny([.. keyUse.Select(t => "System.Security.Cryptography." + t)])
            .GetResult();
        Assert.True(result.IsSuccessful,
            "Formats parses and writes structures and decrypts nothing; cipher, MAC, key derivation and key use belong in Crypto:\n" +
            string.Join("\n", (result.FailingTypes ?? []).Select(t => $"  {t.FullName}: {t.Explanation}")));
    }

    private static string InLayer(string layer) => $@"^KeyDoctor\.{layer}(\.|$)";

    private static bool IsCompilerMade(Type t) =>
        t.Name.StartsWith('<') || t.IsDefined(typeof(CompilerGeneratedAttribute), false) || t.IsDefined(typeof(GeneratedCodeAttribute), false)
        || t.Namespace is "Microsoft.CodeAnalysis" or "System.Runtime.CompilerServices" || (t.DeclaringType is { } outer && IsCompilerMade(outer))
        || (t.Namespace is null && t.Name == "Program"); // the CLI's top-level statements
}
