using System.Collections;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;

namespace KeyDoctor.Fuzz;

/// <summary>
/// Reads every public property of what a reader returned, recursively, so that lazily decoded parts (names,
/// digests, certificates, times) are exercised as a report would exercise them. Bounded in depth and items.
/// </summary>
public static class Consume
{
    private const int MaxDepth = 8;
    private const int MaxItems = 100_000;

    public static void All(object? value)
    {
        var budget = MaxItems;
        Walk(value, 0, new HashSet<object>(ReferenceEqualityComparer.Instance), ref budget);
    }

    /// <summary>What KeyDoctor reads of a certificate (reports, checks): every one must be readable.</summary>
    public static void Certificate(X509Certificate2 certificate)
    {
        _ = certificate.Subject;
        _ = certificate.Issuer;
        _ = certificate.SerialNumber;
        _ = certificate.NotBefore;
        _ = certificate.NotAfter;
        _ = certificate.Thumbprint;
        _ = certificate.PublicKey.EncodedKeyValue.RawData;
        _ = certificate.PublicKey.ExportSubjectPublicKeyInfo();
    }

    private static void Walk(object? value, int depth, HashSet<object> seen, ref int budget)
    {
        if (value is null || depth > MaxDepth || --budget < 0) return;
        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is string or decimal or DateTime or DateTimeOffset or Guid or TimeSpan
            or UInt128 or Int128 or Type or Delegate)
        {
            _ = value.ToString();
            return;
        }
        if (value is X509Certificate2 certificate)
        {
            Certificate(certificate);
            return;
        }
        if (value is ReadOnlyMemory<byte> memory)
        {
            _ = memory.Span.Length;
            return;
        }
        if (value is Memory<byte> or byte[]) return;
        if (!type.IsValueType && !seen.Add(value)) return;
        if (type.Namespace?.StartsWith("System.Security.Cryptography", StringComparison.Ordinal) == true) return;
        if (value is IEnumerable items)
        {
            foreach (var item in items)
            {
                if (budget <= 0) return;
                Walk(item, depth + 1, seen, ref budget);
            }
            return;
        }
        if (type.Namespace?.StartsWith("KeyDoctor", StringComparison.Ordinal) != true) return;
        _ = value.ToString();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.PropertyType.IsByRefLike) continue;
            object? child;
            try
            {
                child = property.GetValue(value);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
            Walk(child, depth + 1, seen, ref budget);
        }
    }
}
