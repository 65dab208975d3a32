namespace KeyDoctor.Store;

/// <summary>
/// Points SQLitePCL at the e_sqlite3 library the tool ships (beside the NativeAOT executable, inside the Windows single
/// file). Microsoft.Data.Sqlite would find the bundle by reflection, which NativeAOT trims away: say it directly.
/// </summary>
internal static class SqliteNative
{
    private static readonly Lazy<bool> Initialized = new(() =>
    {
        SQLitePCL.Batteries_V2.Init();
        return true;
    });

    public static void Initialize() => _ = Initialized.Value;
}
