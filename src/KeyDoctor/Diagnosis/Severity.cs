namespace KeyDoctor.Diagnosis;

/// <summary>How much a finding matters. Ordered: a higher value is worse.</summary>
public enum Severity
{
    /// <summary>Context worth knowing; nothing is broken.</summary>
    Info = 0,

    /// <summary>Something will break, or is broken in a way that is not yet visible.</summary>
    Warning = 1,

    /// <summary>A service or binding is broken now.</summary>
    Error = 2,

    /// <summary>Keys or secrets may be lost for good unless acted on carefully.</summary>
    Critical = 3,
}
