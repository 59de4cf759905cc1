using System.Reflection;
using FluentMigrator;

namespace IamVet.Schema.Migrations.Infrastructure;

/// <summary>
/// A migration whose Up and Down are set-based SQL kept in embedded files beside it:
/// <c>Sql/{ClassName}.up.sql</c> and <c>Sql/{ClassName}.down.sql</c>. Long data moves read better
/// as SQL than as fluent calls, and the plain-SQL benchmark can run the very same statements.
/// </summary>
public abstract class SqlMigration : Migration
{
    public override void Up() => Execute.Sql(SqlScripts.Load($"{GetType().Name}.up.sql"));

    public override void Down() => Execute.Sql(SqlScripts.Load($"{GetType().Name}.down.sql"));
}

/// <summary>Reads the SQL files embedded in this assembly.</summary>
public static class SqlScripts
{
    private static readonly Assembly Assembly = typeof(SqlScripts).Assembly;

    public static string Load(string fileName)
    {
        var resource = Assembly.GetManifestResourceNames()
            .SingleOrDefault(name => name.EndsWith(".Sql." + fileName, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Embedded SQL script '{fileName}' not found in {Assembly.GetName().Name}.");
        using var stream = Assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Every script a migration runs in one direction (<c>up</c> or <c>down</c>), in file-name order:
    /// <c>Sql/{migration}.{direction}.sql</c>, or the <c>*.{direction}.sql</c> files of the folder
    /// <c>Sql/{migration}/</c>. Empty when it has none (the forward-only baseline's down).
    /// </summary>
    public static IReadOnlyList<string> AllOf(string migration, string direction) =>
        Assembly.GetManifestResourceNames()
            .Where(name => name.EndsWith($".Sql.{migration}.{direction}.sql", StringComparison.Ordinal)
                           || (name.Contains($".Sql.{migration}.", StringComparison.Ordinal) && name.EndsWith($".{direction}.sql", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .Select(name => Load(name[(name.IndexOf(".Sql.", StringComparison.Ordinal) + ".Sql.".Length)..]))
            .ToList();
}
