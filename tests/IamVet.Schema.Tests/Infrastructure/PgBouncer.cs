namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// A real PgBouncer in front of the test server, started by <c>scripts/lib/pgbouncer.sh</c> (which
/// installs Debian's <c>pgbouncer</c> package when it is missing and runs it as the <c>postgres</c>
/// OS user when the tests run as root). Stopped, by its pidfile, on dispose.
/// </summary>
public sealed class PgBouncer : IAsyncDisposable
{
    private const string Script = "scripts/lib/pgbouncer.sh";

    private PgBouncer(string directory, string connectionString)
    {
        Directory = directory;
        ConnectionString = connectionString;
    }

    /// <summary>Where its configuration, log and pidfile are.</summary>
    public string Directory { get; }

    /// <summary>The upstream connection string, through the pooler (same user, password and database).</summary>
    public string ConnectionString { get; }

    /// <summary>The connection string to <paramref name="database"/> through the pooler.</summary>
    public string To(string database) => new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;

    /// <summary>Starts one (<c>pool_mode</c> = <paramref name="poolMode"/>) in front of <see cref="PostgresServer.AdminConnectionString"/>.</summary>
    public static async Task<PgBouncer> StartAsync(string poolMode, bool ignoreOptions)
    {
        var arguments = new List<string> { "start", "--pool-mode", poolMode };
        if (ignoreOptions)
        {
            arguments.Add("--ignore-options");
        }

        arguments.Add(PostgresServer.AdminConnectionString);
        // A first run may apt-get install pgbouncer.
        var started = await ScriptProcess.RunAsync(Script, new Dictionary<string, string?>(), TimeSpan.FromMinutes(5), [.. arguments]);
        Assert.That(started.ExitCode, Is.Zero, "PgBouncer did not start\n" + started);
        var values = started.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2)).Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        return new PgBouncer(values["PGBOUNCER_DIR"], values["PGBOUNCER_CONNECTION"]);
    }

    public async ValueTask DisposeAsync()
    {
        var stopped = await ScriptProcess.RunAsync(Script, new Dictionary<string, string?>(), TimeSpan.FromSeconds(30), "stop", Directory);
        Assert.That(stopped.ExitCode, Is.Zero, "PgBouncer did not stop\n" + stopped);
    }
}
