namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL client programs as the tests use them: the real ones found on PATH (before any
/// test puts a fake first), run with the connection in libpq's environment like the runner does,
/// and fake ones written as small shell scripts into a directory that a test puts first on PATH.
/// </summary>
public static class PgClient
{
    /// <summary>The absolute path of <paramref name="name"/> on this process's PATH; fails the test when missing.</summary>
    public static string Which(string name)
    {
        var path = PgTools.Find(name)?.Path;
        if (path is null)
        {
            Assert.Fail($"{name} is not on PATH: install postgresql-client (scripts/test.sh does)");
        }

        return path!;
    }

    /// <summary>
    /// The pg_dump of a real PostgreSQL client older than <paramref name="serverMajor"/> that this
    /// machine has (Debian's /usr/lib/postgresql/N/bin with pg_dump and pg_restore; the newest such
    /// N), or null when it has none.
    /// </summary>
    public static PgTool? OlderThan(int serverMajor) =>
        !Directory.Exists("/usr/lib/postgresql")
            ? null
            : Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => Path.Combine(dir, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "pg_restore")))
                .Select(bin => PgTools.Find("pg_dump", bin))
                .Where(tool => tool is not null && tool.Major > 0 && tool.Major < serverMajor)
                .MaxBy(tool => tool!.Major);

    /// <summary>Writes an executable <c>#!/bin/sh</c> script named <paramref name="name"/> into <paramref name="directory"/>.</summary>
    public static void WriteScript(string directory, string name, string body)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                   UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>PATH with <paramref name="directory"/> first, for a runner that must find the fakes in it.</summary>
    public static string PathWithFirst(string directory) =>
        directory + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");

    /// <summary>
    /// <c>pg_dump --format=plain</c> of the whole database: schema and data as text. The random
    /// <c>\restrict</c> key newer pg_dump versions write into every dump is left out, so two dumps of
    /// an unchanged database are equal byte for byte.
    /// </summary>
    public static string DumpPlain(string connectionString)
    {
        var run = Run("pg_dump", connectionString, ["--format=plain", "--no-password"]);
        return string.Join('\n', run.Split('\n').Where(line => !line.StartsWith("\\restrict ", StringComparison.Ordinal) && !line.StartsWith("\\unrestrict ", StringComparison.Ordinal)));
    }

    /// <summary><c>pg_restore</c> of a custom-format dump into the (empty) database of <paramref name="connectionString"/>.</summary>
    public static void Restore(string connectionString, string dumpPath) =>
        Run("pg_restore", connectionString, ["--no-password", "--exit-on-error", "--dbname", new NpgsqlConnectionStringBuilder(connectionString).Database!, dumpPath]);

    /// <summary>
    /// <c>pg_dump --schema-only --no-owner --no-privileges</c> into <paramref name="path"/>: the
    /// schema-only dump of production that the application's CI example loads (docs/ci.md).
    /// </summary>
    public static void DumpSchemaOnly(string connectionString, string path) =>
        Run("pg_dump", connectionString, ["--schema-only", "--no-owner", "--no-privileges", "--no-password", "--file", path]);

    /// <summary><c>psql -v ON_ERROR_STOP=1 -f</c>: loads a plain SQL file as the CI example does.</summary>
    public static void LoadSql(string connectionString, string path) =>
        Run("psql", connectionString, ["--no-password", "-v", "ON_ERROR_STOP=1", "-q", "-f", path]);

    /// <summary>
    /// <c>psql -X -v ON_ERROR_STOP=1</c> running <paramref name="script"/> inside BEGIN … ROLLBACK on
    /// the database of <paramref name="connectionString"/>: whether the script runs as is, changing nothing.
    /// </summary>
    public static ToolRun PsqlRolledBack(string connectionString, string script)
    {
        var wrapper = Path.Combine(Path.GetDirectoryName(script)!, Path.GetFileNameWithoutExtension(script) + ".rolled-back.sql");
        File.WriteAllText(wrapper, $"BEGIN;\n\\i '{script}'\nROLLBACK;\n");
        return PgTools.Run(Which("psql"), ["-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-f", wrapper],
            new MigrationDatabase(ConnectionTarget.Parse(connectionString)).ClientEnvironment("tests psql"), TimeSpan.FromMinutes(2));
    }

    private static string Run(string tool, string connectionString, IReadOnlyList<string> arguments)
    {
        var run = PgTools.Run(Which(tool), arguments, new MigrationDatabase(ConnectionTarget.Parse(connectionString)).ClientEnvironment("tests pg client"), TimeSpan.FromMinutes(2));
        Assert.That(run.ExitCode, Is.Zero, $"{tool} {string.Join(' ', arguments)} failed:\n{run.StandardError}");
        return run.StandardOutput;
    }
}
