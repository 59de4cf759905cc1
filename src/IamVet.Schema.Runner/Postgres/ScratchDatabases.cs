using System.Text.RegularExpressions;
using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// The scratch databases <c>rehearse</c> restores its copy into, named
/// <c>&lt;db&gt;_rehearse_&lt;yyyyMMddHHmmss&gt;</c> (shortened like every derived name, see
/// <see cref="Identifiers.Derived"/>). A rehearse drops its own; one killed with SIGKILL cannot, and
/// leaves a full copy of the database behind, which the next rehearse names.
/// </summary>
public static class ScratchDatabases
{
    private const string Stamp = "yyyyMMddHHmmss";

    /// <summary>The scratch database name of a rehearse of <paramref name="database"/> started at <paramref name="at"/>.</summary>
    public static string For(string database, DateTime at) =>
        Identifiers.Derived(database, "_rehearse_" + at.ToString(Stamp, CultureInfo.InvariantCulture));

    /// <summary>The scratch databases of rehearsals of <paramref name="database"/> that exist on the server now, by name.</summary>
    public static async Task<List<string>> LeftOverAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        // Every stamp has the same length, so every scratch name of this database shares the prefix.
        var prefix = For(database, DateTime.UnixEpoch)[..^Stamp.Length];
        var pattern = new Regex("^" + Regex.Escape(prefix) + "[0-9]{14}$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        await using var command = new NpgsqlCommand("SELECT datname::text FROM pg_database WHERE starts_with(datname, @prefix) ORDER BY datname", connection);
        command.Parameters.AddWithValue("prefix", prefix);
        return (await Sql.ColumnAsync(command, cancellationToken)).Where(name => pattern.IsMatch(name)).ToList();
    }
}
