namespace IamVet.Schema.Runner.Postgres;

/// <summary>SQL identifier quoting. Every identifier the runner builds into SQL goes through here.</summary>
public static class Identifiers
{
    /// <summary>Double-quotes <paramref name="name"/> (camelCase survives, quotes are doubled).</summary>
    public static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
